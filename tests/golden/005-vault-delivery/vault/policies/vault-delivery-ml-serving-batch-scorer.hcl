# secureai: workload 'batch-scorer' in namespace 'ml-serving' reads these paths
path "secret/data/ai/serving" {
  capabilities = ["read"]
}
