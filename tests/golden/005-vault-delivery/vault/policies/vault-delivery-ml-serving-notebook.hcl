# secureai: workload 'notebook' in namespace 'ml-serving' reads these paths
path "secret/data/ai/model-parameters" {
  capabilities = ["read"]
}
