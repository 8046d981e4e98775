# secureai: workload 'trainer' in namespace 'ml-training' reads these paths
path "secret/data/ml/trainer-parameters" {
  capabilities = ["read"]
}
