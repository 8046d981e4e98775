# secureai: workload 'trainer' in namespace 'ml-training' reads these paths
path "secret/data/ai/model-parameters" {
  capabilities = ["read"]
}
