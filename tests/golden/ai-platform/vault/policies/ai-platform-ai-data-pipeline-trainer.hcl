# secureai: workload 'trainer' in namespace 'ai-data-pipeline' reads these paths
path "secret/data/ai/model-parameters" {
  capabilities = ["read"]
}
