# secureai: workload 'ray-embeddings' in namespace 'ml-training' reads these paths
path "secret/data/llm/serving-defaults" {
  capabilities = ["read"]
}
