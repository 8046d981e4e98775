// Wrapper module for building the pulumi CLI from the Go module proxy (scripts/engine/build-pulumi.sh).
// pkg/v3's own go.mod replaces sdk/v3 with a sibling directory and clipboard with a fork; replace
// lines of a dependency are ignored, so the fork is repeated here and sdk/v3 comes from pkg's pin.
module secureai.local/engine/pulumi-cli

go 1.26.6

require github.com/pulumi/pulumi/pkg/v3 v3.274.1

replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
