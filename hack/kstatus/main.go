// kstatus prints the kstatus status of Kubernetes objects read as JSON on stdin (one object, a
// List, or several objects one after the other), one JSON line per object:
//
//	{"kind":"HPORequest","name":"demo","status":"Current","message":"Resource is current"}
//
// "status" comes from sigs.k8s.io/cli-utils/pkg/kstatus/status, the logic kpt and `kubectl`-based
// tools use and that Flux's kustomize-controller runs (from its fork github.com/fluxcd/cli-utils,
// the same rules) for `wait: true` and `healthChecks`.
//
//	kstatus -flux-exprs '{"current": "...", "inProgress": "...", "failed": "..."}'
//
// also evaluates Flux `healthCheckExprs` (CEL) for each object with Flux's own evaluator
// (github.com/fluxcd/pkg/runtime/cel) and prints the result as "flux".
//
// Used by the project's tests (test/integration/gitops.test.ts); built by hack/build-go-tool.sh.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	fluxkustomize "github.com/fluxcd/pkg/apis/kustomize"
	fluxcel "github.com/fluxcd/pkg/runtime/cel"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type line struct {
	Kind       string             `json:"kind"`
	Namespace  string             `json:"namespace,omitempty"`
	Name       string             `json:"name"`
	Status     string             `json:"status"`
	Message    string             `json:"message"`
	Conditions []status.Condition `json:"conditions,omitempty"`
	Error      string             `json:"error,omitempty"`
	Flux       string             `json:"flux,omitempty"`
	FluxError  string             `json:"fluxError,omitempty"`
}

func compute(obj map[string]interface{}, flux *fluxcel.StatusEvaluator) line {
	u := &unstructured.Unstructured{Object: obj}
	out := line{Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName()}
	if res, err := status.Compute(u); err != nil {
		out.Status = "Error"
		out.Error = err.Error()
	} else {
		out.Status = res.Status.String()
		out.Message = res.Message
		out.Conditions = res.Conditions
	}
	if flux != nil {
		if res, err := flux.Evaluate(context.Background(), u); err != nil {
			out.FluxError = err.Error()
		} else {
			out.Flux = res.Status.String()
		}
	}
	return out
}

func run(in io.Reader, w io.Writer, flux *fluxcel.StatusEvaluator) error {
	dec := json.NewDecoder(in)
	enc := json.NewEncoder(w)
	for {
		var obj map[string]interface{}
		if err := dec.Decode(&obj); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("reading JSON from stdin: %w", err)
		}
		// Whole numbers as int64, as the API machinery's JSON decoder gives them.
		obj = normalise(obj).(map[string]interface{})
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
			if err := enc.Encode(compute(o, flux)); err != nil {
				return err
			}
		}
	}
}

// normalise turns float64 values that are whole numbers into int64, as the API machinery's JSON
// decoder does, so that fields such as metadata.generation read as integers.
func normalise(v interface{}) interface{} {
	switch t := v.(type) {
	case map[string]interface{}:
		for k, x := range t {
			t[k] = normalise(x)
		}
		return t
	case []interface{}:
		for i, x := range t {
			t[i] = normalise(x)
		}
		return t
	case float64:
		if t == float64(int64(t)) {
			return int64(t)
		}
		return t
	default:
		return v
	}
}

func main() {
	exprs := flag.String("flux-exprs", "", `Flux healthCheckExprs as JSON: {"current": "...", "inProgress": "...", "failed": "..."}`)
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: kstatus [-flux-exprs JSON] < objects.json  (one object, a List, or several objects)")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	var flux *fluxcel.StatusEvaluator
	if *exprs != "" {
		var e fluxkustomize.HealthCheckExpressions
		if err := json.Unmarshal([]byte(*exprs), &e); err != nil {
			fmt.Fprintln(os.Stderr, "kstatus: -flux-exprs:", err)
			os.Exit(2)
		}
		ev, err := fluxcel.NewStatusEvaluator(&e)
		if err != nil {
			fmt.Fprintln(os.Stderr, "kstatus: -flux-exprs:", err)
			os.Exit(2)
		}
		flux = ev
	}
	if err := run(os.Stdin, os.Stdout, flux); err != nil {
		fmt.Fprintln(os.Stderr, "kstatus:", err)
		os.Exit(1)
	}
}
