// luahealth runs an Argo CD resource health check written in Lua against Kubernetes objects, in
// the interpreter Argo CD embeds (github.com/yuin/gopher-lua) and the sandbox it gives a health
// script from the argocd-cm ConfigMap: only the package, base and table libraries are open (no
// string, math, io or os unless useOpenLibs is set), the object is the global `obj`, and the
// script has one second to return a table {status = ..., message = ...}.
//
//	luahealth SCRIPT.lua < objects.json
//
// reads one object, a List (its items) or several objects one after the other as JSON on stdin,
// and writes one JSON line per object: {"name":"demo","status":"Healthy","message":"..."}, with
// "error" set when the script failed or returned something Argo CD would reject.
//
// Used by the project's tests (test/integration/gitops.test.ts); built by hack/build-go-tool.sh.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// healthStatuses are the statuses Argo CD accepts from a health script.
var healthStatuses = map[string]bool{
	"Healthy": true, "Progressing": true, "Degraded": true, "Suspended": true, "Missing": true, "Unknown": true,
}

type result struct {
	Name    string `json:"name"`
	Status  string `json:"status"`
	Message string `json:"message"`
	Error   string `json:"error,omitempty"`
}

// toLua converts a decoded JSON value to a Lua value the way Argo CD hands objects to scripts:
// objects and arrays become tables, numbers LNumber, null nil.
func toLua(L *lua.LState, v interface{}) lua.LValue {
	switch t := v.(type) {
	case bool:
		return lua.LBool(t)
	case float64:
		return lua.LNumber(t)
	case string:
		return lua.LString(t)
	case []interface{}:
		tbl := L.CreateTable(len(t), 0)
		for _, x := range t {
			tbl.Append(toLua(L, x))
		}
		return tbl
	case map[string]interface{}:
		tbl := L.CreateTable(0, len(t))
		for k, x := range t {
			tbl.RawSetH(lua.LString(k), toLua(L, x))
		}
		return tbl
	default:
		return lua.LNil
	}
}

func evaluate(script string, obj map[string]interface{}) result {
	meta, _ := obj["metadata"].(map[string]interface{})
	name, _ := meta["name"].(string)
	out := result{Name: name}
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.LoadLibName, lua.OpenPackage}, {lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}} {
		if err := L.CallByParam(lua.P{Fn: L.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			out.Error = err.Error()
			return out
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	L.SetContext(ctx)
	L.SetGlobal("obj", toLua(L, obj))
	if err := L.DoString(script); err != nil {
		out.Error = err.Error()
		return out
	}
	ret, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		out.Error = fmt.Sprintf("expect table output from Lua script, not %s", L.Get(-1).Type())
		return out
	}
	status, _ := ret.RawGetString("status").(lua.LString)
	message := ret.RawGetString("message")
	out.Status = string(status)
	if message != lua.LNil {
		out.Message = message.String()
	}
	if !healthStatuses[out.Status] {
		out.Error = fmt.Sprintf("Lua returned an invalid health status %q", out.Status)
	}
	return out
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: luahealth SCRIPT.lua < objects.json")
		os.Exit(2)
	}
	src, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "luahealth:", err)
		os.Exit(1)
	}
	dec := json.NewDecoder(os.Stdin)
	enc := json.NewEncoder(os.Stdout)
	for {
		var obj map[string]interface{}
		if err := dec.Decode(&obj); err != nil {
			if errors.Is(err, io.EOF) {
				return
			}
			fmt.Fprintln(os.Stderr, "luahealth: reading JSON from stdin:", err)
			os.Exit(1)
		}
		objects := []map[string]interface{}{obj}
		if items, ok := obj["items"].([]interface{}); ok {
			objects = objects[:0]
			for _, it := range items {
				if m, ok := it.(map[string]interface{}); ok {
					objects = append(objects, m)
				}
			}
		}
		for _, o := range objects {
			if err := enc.Encode(evaluate(string(src), o)); err != nil {
				fmt.Fprintln(os.Stderr, "luahealth:", err)
				os.Exit(1)
			}
		}
	}
}
