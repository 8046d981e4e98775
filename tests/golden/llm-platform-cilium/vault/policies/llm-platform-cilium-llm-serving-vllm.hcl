# secureai: workload 'vllm' in namespace 'llm-serving' reads these paths
path "secret/data/llm/serving-defaults" {
  capabilities = ["read"]
}
