# secureai: workload 'trainer' in namespace 'ml-serving' reads these paths
path "secret/data/ai/model-parameters" {
  capabilities = ["read"]
}
