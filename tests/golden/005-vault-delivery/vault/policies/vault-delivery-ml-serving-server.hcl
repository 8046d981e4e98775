# secureai: workload 'server' in namespace 'ml-serving' reads these paths
path "secret/data/ai/serving" {
  capabilities = ["read"]
}
