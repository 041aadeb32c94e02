// Package validate strictly decodes the shipped Kubernetes manifests (the
// kustomize base and `helm template` output) into the real Kubernetes and
// prometheus-operator Go types: an unknown or misspelt field fails.
package validate

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

type meta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

// decode strictly decodes one manifest into its typed struct.
func decode(t *testing.T, where string, doc []byte) any {
	t.Helper()
	var m meta
	if err := yaml.Unmarshal(doc, &m); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	var obj any
	switch m.APIVersion + "/" + m.Kind {
	case "apps/v1/Deployment":
		obj = &appsv1.Deployment{}
	case "apps/v1/StatefulSet":
		obj = &appsv1.StatefulSet{}
	case "v1/Service":
		obj = &corev1.Service{}
	case "v1/ServiceAccount":
		obj = &corev1.ServiceAccount{}
	case "v1/ConfigMap":
		obj = &corev1.ConfigMap{}
	case "v1/Secret":
		obj = &corev1.Secret{}
	case "monitoring.coreos.com/v1/ServiceMonitor":
		obj = &monitoringv1.ServiceMonitor{}
	case "monitoring.coreos.com/v1/PrometheusRule":
		obj = &monitoringv1.PrometheusRule{}
	case "kustomize.config.k8s.io/v1beta1/Kustomization":
		return nil
	default:
		t.Fatalf("%s: unexpected kind %s/%s", where, m.APIVersion, m.Kind)
	}
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		t.Fatalf("%s: %s/%s does not decode strictly: %v", where, m.APIVersion, m.Kind, err)
	}
	return obj
}

func splitDocs(b []byte) [][]byte {
	var out [][]byte
	for _, d := range bytes.Split(b, []byte("\n---")) {
		if len(bytes.TrimSpace(stripComments(d))) > 0 {
			out = append(out, d)
		}
	}
	return out
}

func stripComments(b []byte) []byte {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			out = append(out, l)
		}
	}
	return []byte(strings.Join(out, "\n"))
}

// checkPod asserts the properties every shipped workload must have.
func checkPod(t *testing.T, where string, spec corev1.PodSpec) {
	t.Helper()
	if spec.SecurityContext == nil || spec.SecurityContext.RunAsNonRoot == nil || !*spec.SecurityContext.RunAsNonRoot {
		t.Errorf("%s: pod must run as non-root", where)
	}
	if len(spec.Containers) != 1 {
		t.Fatalf("%s: want one container", where)
	}
	c := spec.Containers[0]
	if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/-/healthy" {
		t.Errorf("%s: liveness probe must be GET /-/healthy", where)
	}
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/-/ready" {
		t.Errorf("%s: readiness probe must be GET /-/ready", where)
	}
	if c.SecurityContext == nil || c.SecurityContext.ReadOnlyRootFilesystem == nil || !*c.SecurityContext.ReadOnlyRootFilesystem {
		t.Errorf("%s: root filesystem must be read-only", where)
	}
	if c.Resources.Limits.Memory().IsZero() || c.Resources.Requests.Cpu().IsZero() {
		t.Errorf("%s: resources must be set", where)
	}
	if len(c.Ports) != 1 || c.Ports[0].ContainerPort != 9871 || c.Ports[0].Name != "http-metrics" {
		t.Errorf("%s: port must be 9871 named http-metrics", where)
	}
}

func checkObjects(t *testing.T, where string, objs []any) map[string]int {
	t.Helper()
	kinds := map[string]int{}
	for _, o := range objs {
		switch v := o.(type) {
		case *appsv1.Deployment:
			kinds["Deployment"]++
			checkPod(t, where, v.Spec.Template.Spec)
		case *appsv1.StatefulSet:
			kinds["StatefulSet"]++
			checkPod(t, where, v.Spec.Template.Spec)
		case *corev1.Service:
			kinds["Service"]++
			if len(v.Spec.Ports) != 1 || v.Spec.Ports[0].Name != "http-metrics" {
				t.Errorf("%s: service port must be http-metrics", where)
			}
		case *monitoringv1.PrometheusRule:
			kinds["PrometheusRule"]++
			alerts := 0
			for _, g := range v.Spec.Groups {
				for _, r := range g.Rules {
					if r.Alert != "" {
						alerts++
					}
				}
			}
			if alerts < 10 {
				t.Errorf("%s: PrometheusRule has %d alerts", where, alerts)
			}
		case *monitoringv1.ServiceMonitor:
			kinds["ServiceMonitor"]++
		case *corev1.ConfigMap:
			kinds["ConfigMap"]++
		case *corev1.Secret:
			kinds["Secret"]++
		case *corev1.ServiceAccount:
			kinds["ServiceAccount"]++
		}
	}
	return kinds
}

func TestKustomizeBase(t *testing.T) {
	dir := filepath.Join("..", "kubernetes")
	k, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var kust struct {
		Resources []string `json:"resources"`
	}
	if err := yaml.Unmarshal(k, &kust); err != nil {
		t.Fatal(err)
	}
	var objs []any
	for _, r := range kust.Resources {
		b, err := os.ReadFile(filepath.Join(dir, r))
		if err != nil {
			t.Fatal(err)
		}
		for i, d := range splitDocs(b) {
			objs = append(objs, decode(t, fmt.Sprintf("%s#%d", r, i), d))
		}
	}
	kinds := checkObjects(t, "kustomize", objs)
	for _, want := range []string{"Deployment", "Service", "ServiceAccount", "ConfigMap", "Secret", "ServiceMonitor", "PrometheusRule"} {
		if kinds[want] != 1 {
			t.Errorf("kustomize base: want one %s, got %d", want, kinds[want])
		}
	}
}

func helm(t *testing.T) string {
	t.Helper()
	if h := os.Getenv("HELM"); h != "" {
		return h
	}
	if p, err := exec.LookPath("helm"); err == nil {
		return p
	}
	t.Fatal("helm not found: deploy/check.sh installs it (set HELM=/path/to/helm)")
	return ""
}

func TestHelmTemplate(t *testing.T) {
	h := helm(t)
	chart := filepath.Join("..", "helm", "ece-exporter")
	for _, tc := range []struct {
		name string
		args []string
		want map[string]int
	}{
		{"defaults", []string{"--set", "apiKey=x"}, map[string]int{"Deployment": 1, "Service": 1, "ConfigMap": 1, "Secret": 1, "ServiceAccount": 1}},
		{"all features", []string{"--set", "existingSecret=mine", "--set", "serviceMonitor.enabled=true", "--set", "prometheusRule.enabled=true",
			"--set", "dashboard.enabled=true", "--set", "sharding.enabled=true", "--set", "sharding.totalShards=3"},
			map[string]int{"StatefulSet": 1, "Service": 1, "ConfigMap": 2, "ServiceAccount": 1, "ServiceMonitor": 1, "PrometheusRule": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			cmd := exec.Command(h, append([]string{"template", "rel", chart}, tc.args...)...)
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("helm template: %v\n%s", err, stderr.String())
			}
			var objs []any
			for i, d := range splitDocs(out) {
				objs = append(objs, decode(t, fmt.Sprintf("%s#%d", tc.name, i), d))
			}
			got := checkObjects(t, tc.name, objs)
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s: want %d %s, got %d", tc.name, v, k, got[k])
				}
			}
			if tc.name == "all features" {
				if !bytes.Contains(out, []byte("--shard.from-hostname")) || !bytes.Contains(out, []byte("checksum/config")) {
					t.Error("sharding args or config checksum missing")
				}
				if !bytes.Contains(out, []byte(`grafana_dashboard: "1"`)) {
					t.Error("dashboard ConfigMap needs the Grafana sidecar label")
				}
			}
		})
	}
	// The schema rejects unknown values.
	out, err := exec.Command(h, "template", "rel", chart, "--set", "apiKey=x", "--set", "nope=1").CombinedOutput()
	if err == nil {
		t.Errorf("values.schema.json accepted an unknown key:\n%s", out)
	}
}
