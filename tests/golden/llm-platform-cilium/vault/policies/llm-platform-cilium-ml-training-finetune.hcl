# secureai: workload 'finetune' in namespace 'ml-training' reads these paths
path "secret/data/llm/finetune-hyperparameters" {
  capabilities = ["read"]
}
