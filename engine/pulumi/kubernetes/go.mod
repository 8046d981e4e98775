// Wrapper module for building pulumi-resource-kubernetes 4.25.0 (scripts/engine/build-pulumi.sh).
// The provider has no provider/v4 tags: the pseudo-version is the commit of tag v4.25.0, the only
// provider version the module proxy serves. Its go.mod replaces sdk/v4 with a sibling directory,
// so a published sdk/v4 is required instead (only the helm/yaml components import it): v4.22.2,
// the newest one the proxy serves whose own sdk/v3 requirement stays below the provider's pinned
// pulumi pkg/sdk v3.215.0 (v4.29.0 pulls sdk/v3 v3.226.0, which pkg v3.215.0 does not compile with).
module secureai.local/engine/pulumi-kubernetes

go 1.24

require (
	github.com/pulumi/pulumi-kubernetes/provider/v4 v4.0.0-20260115033456-f47bc2d6f199
	github.com/pulumi/pulumi-kubernetes/sdk/v4 v4.22.2
)
