// A tiny program that runs Argo CD Lua health checks in gopher-lua, the interpreter Argo CD embeds,
// for the project's GitOps tests. See main.go.
module hpo.dev/hack/luahealth

go 1.25.0

require github.com/yuin/gopher-lua v1.1.1
