// Package validate checks the shipped deployment artefacts offline against
// the real types and parsers they are consumed by:
//
//   - the kustomize base, built in-process with the kustomize API (krusty),
//     and `helm template` output of the chart (defaults and every optional
//     feature), strictly decoded (unknown fields are errors) into k8s.io/api
//     and prometheus-operator monitoring/v1 types;
//   - the exporter configuration they ship, parsed by the daemon's own config
//     package, with the API key path resolved against the mounted Secret;
//   - the flags they pass, against the daemon's --help;
//   - the docker-compose tour, loaded by compose-go (the compose-spec
//     reference loader, schema validation included).
package validate

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/ece-exporter/ece_exporter/collector"
	"github.com/ece-exporter/ece_exporter/config"
	"github.com/ece-exporter/ece_exporter/deploy/validate/internal/rulegen"
)

const (
	metricsPort     = 9871
	metricsPortName = "http-metrics"
)

// object is one decoded manifest.
type object struct {
	where string // file#index, for messages
	kind  string
	name  string
	obj   any
}

// manifests is the decoded output of one kustomize build or helm template.
type manifests struct {
	name string
	objs []object
}

func (m manifests) all(kind string) []object {
	var out []object
	for _, o := range m.objs {
		if o.kind == kind {
			out = append(out, o)
		}
	}
	return out
}

func (m manifests) get(kind, name string) (object, bool) {
	for _, o := range m.objs {
		if o.kind == kind && o.name == name {
			return o, true
		}
	}
	return object{}, false
}

func (m manifests) count() map[string]int {
	c := map[string]int{}
	for _, o := range m.objs {
		c[o.kind]++
	}
	return c
}

// typed returns an empty typed object for apiVersion/kind, or an error for a
// kind we do not ship.
func typed(apiVersion, kind string) (any, error) {
	switch apiVersion + "/" + kind {
	case "apps/v1/Deployment":
		return &appsv1.Deployment{}, nil
	case "apps/v1/StatefulSet":
		return &appsv1.StatefulSet{}, nil
	case "v1/Service":
		return &corev1.Service{}, nil
	case "v1/ServiceAccount":
		return &corev1.ServiceAccount{}, nil
	case "v1/ConfigMap":
		return &corev1.ConfigMap{}, nil
	case "v1/Secret":
		return &corev1.Secret{}, nil
	case "monitoring.coreos.com/v1/ServiceMonitor":
		return &monitoringv1.ServiceMonitor{}, nil
	case "monitoring.coreos.com/v1/PrometheusRule":
		return &monitoringv1.PrometheusRule{}, nil
	}
	return nil, fmt.Errorf("unexpected kind %s %s", apiVersion, kind)
}

// decodeAll splits a multi-document YAML stream and strictly decodes every
// document into its typed struct: a misspelt or misplaced field fails.
func decodeAll(t *testing.T, name string, stream []byte) manifests {
	t.Helper()
	m := manifests{name: name}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(stream)))
	for i := 0; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: document %d: %v", name, i, err)
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			t.Fatalf("%s: document %d: %v", name, i, err)
		}
		if head.Kind == "" {
			continue // empty document (comments only)
		}
		where := fmt.Sprintf("%s: %s/%s", name, head.Kind, head.Metadata.Name)
		obj, err := typed(head.APIVersion, head.Kind)
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			t.Fatalf("%s does not decode strictly into %T: %v", where, obj, err)
		}
		m.objs = append(m.objs, object{where: where, kind: head.Kind, name: head.Metadata.Name, obj: obj})
	}
	if len(m.objs) == 0 {
		t.Fatalf("%s: no objects", name)
	}
	return m
}

// ---------------------------------------------------------------- checks

var (
	daemonFlagsOnce sync.Once
	daemonFlags     map[string]bool
	daemonFlagsErr  error
)

// flagsOfDaemon builds ece_exporter and returns the long flags its --help
// lists.
func flagsOfDaemon(t *testing.T) map[string]bool {
	t.Helper()
	daemonFlagsOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ece-validate")
		if err != nil {
			daemonFlagsErr = err
			return
		}
		defer os.RemoveAll(dir)
		bin := filepath.Join(dir, "ece_exporter")
		build := exec.Command("go", "build", "-o", bin, ".")
		build.Dir = filepath.Join("..", "..")
		if out, err := build.CombinedOutput(); err != nil {
			daemonFlagsErr = fmt.Errorf("go build ece_exporter: %v\n%s", err, out)
			return
		}
		out, err := exec.Command(bin, "--help").CombinedOutput()
		if err != nil {
			daemonFlagsErr = fmt.Errorf("ece_exporter --help: %v\n%s", err, out)
			return
		}
		daemonFlags = map[string]bool{}
		for _, m := range regexp.MustCompile(`--(?:\[no-\])?([a-z0-9][a-z0-9.\-]*)`).FindAllStringSubmatch(string(out), -1) {
			daemonFlags[m[1]] = true
		}
		if len(daemonFlags) < 5 {
			daemonFlagsErr = fmt.Errorf("ece_exporter --help lists no flags:\n%s", out)
		}
	})
	if daemonFlagsErr != nil {
		t.Fatal(daemonFlagsErr)
	}
	return daemonFlags
}

// checkArgs asserts every --flag passed to the container exists in the
// daemon and returns the value of --config.file ("" when absent).
func checkArgs(t *testing.T, where string, args []string) (configFile string) {
	t.Helper()
	known := flagsOfDaemon(t)
	for _, a := range args {
		if !strings.HasPrefix(a, "--") {
			t.Errorf("%s: argument %q is not a --flag", where, a)
			continue
		}
		name, value, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !known[name] && !known[strings.TrimPrefix(name, "no-")] {
			t.Errorf("%s: ece_exporter has no flag --%s", where, name)
		}
		switch name {
		case "config.file":
			configFile = value
		case "web.listen-address":
			if !strings.HasSuffix(value, fmt.Sprint(":", metricsPort)) {
				t.Errorf("%s: --web.listen-address=%s does not listen on %d", where, value, metricsPort)
			}
		}
	}
	return configFile
}

// mountFor returns the volume mount that contains file.
func mountFor(c corev1.Container, file string) (corev1.VolumeMount, bool) {
	for _, vm := range c.VolumeMounts {
		if strings.HasPrefix(file, strings.TrimSuffix(vm.MountPath, "/")+"/") {
			return vm, true
		}
	}
	return corev1.VolumeMount{}, false
}

func volume(spec corev1.PodSpec, name string) (corev1.Volume, bool) {
	for _, v := range spec.Volumes {
		if v.Name == name {
			return v, true
		}
	}
	return corev1.Volume{}, false
}

// secretKeyAt maps a file under a Secret volume mount to the Secret's name
// and key.
func secretKeyAt(spec corev1.PodSpec, c corev1.Container, file string) (secret, key string, err error) {
	vm, ok := mountFor(c, file)
	if !ok {
		return "", "", fmt.Errorf("%s is not under any volume mount", file)
	}
	v, ok := volume(spec, vm.Name)
	if !ok || v.Secret == nil {
		return "", "", fmt.Errorf("%s is mounted from volume %q, which is not a Secret", file, vm.Name)
	}
	rel := strings.TrimPrefix(file, strings.TrimSuffix(vm.MountPath, "/")+"/")
	if len(v.Secret.Items) == 0 {
		return v.Secret.SecretName, rel, nil
	}
	for _, it := range v.Secret.Items {
		if it.Path == rel {
			return v.Secret.SecretName, it.Key, nil
		}
	}
	return "", "", fmt.Errorf("secret volume %q has no item with path %q", vm.Name, rel)
}

// checkConfig parses the exporter configuration the workload mounts with the
// daemon's own parser. Secret files it reads must come from a mounted
// Secret; the Secret, when part of the manifests, must hold the key.
func checkConfig(t *testing.T, m manifests, where string, spec corev1.PodSpec, c corev1.Container, file string) *config.Config {
	t.Helper()
	vm, ok := mountFor(c, file)
	if !ok {
		t.Errorf("%s: --config.file=%s is not under any volume mount", where, file)
		return nil
	}
	v, ok := volume(spec, vm.Name)
	if !ok || v.ConfigMap == nil {
		t.Errorf("%s: %s is not mounted from a ConfigMap", where, file)
		return nil
	}
	cmObj, ok := m.get("ConfigMap", v.ConfigMap.Name)
	if !ok {
		t.Errorf("%s: ConfigMap %q is not in the manifests", where, v.ConfigMap.Name)
		return nil
	}
	key := path.Base(file)
	data, ok := cmObj.obj.(*corev1.ConfigMap).Data[key]
	if !ok {
		t.Errorf("%s: ConfigMap %q has no key %q", where, v.ConfigMap.Name, key)
		return nil
	}
	var read []string
	cfg, err := config.Parse([]byte(data),
		config.WithBaseDir(path.Dir(file)),
		config.WithReadFile(func(name string) ([]byte, error) {
			read = append(read, name)
			secretName, secretKey, err := secretKeyAt(spec, c, name)
			if err != nil {
				return nil, err
			}
			if so, ok := m.get("Secret", secretName); ok {
				s := so.obj.(*corev1.Secret)
				_, inData := s.Data[secretKey]
				_, inString := s.StringData[secretKey]
				if !inData && !inString {
					return nil, fmt.Errorf("secret %q has no key %q", secretName, secretKey)
				}
			}
			return []byte("ece-validate-fake-key"), nil
		}))
	if err != nil {
		t.Errorf("%s: the daemon rejects the shipped configuration: %v\n%s", where, err, data)
		return nil
	}
	if len(read) == 0 {
		t.Errorf("%s: the configuration reads no secret file (expected api_key_file)", where)
	}
	return cfg
}

// checkWorkload asserts what every shipped pod must have and returns the
// pod template labels.
func checkWorkload(t *testing.T, m manifests, o object, selector map[string]string, tmpl corev1.PodTemplateSpec) {
	t.Helper()
	where := o.where
	for k, v := range selector {
		if tmpl.Labels[k] != v {
			t.Errorf("%s: selector %s=%s does not match the pod template labels %v", where, k, v, tmpl.Labels)
		}
	}
	spec := tmpl.Spec
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Errorf("%s: automountServiceAccountToken must be false", where)
	}
	if sa, ok := m.get("ServiceAccount", spec.ServiceAccountName); ok {
		if a := sa.obj.(*corev1.ServiceAccount).AutomountServiceAccountToken; a == nil || *a {
			t.Errorf("%s: automountServiceAccountToken must be false", sa.where)
		}
	} else {
		t.Errorf("%s: ServiceAccount %q is not in the manifests", where, spec.ServiceAccountName)
	}
	psc := spec.SecurityContext
	switch {
	case psc == nil:
		t.Fatalf("%s: no pod securityContext", where)
	case psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot:
		t.Errorf("%s: pod must set runAsNonRoot", where)
	case psc.RunAsUser == nil || *psc.RunAsUser == 0:
		t.Errorf("%s: pod must run as a non-zero numeric user", where)
	case psc.FSGroup == nil:
		t.Errorf("%s: fsGroup is needed for the non-root user to read the Secret files", where)
	case psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
		t.Errorf("%s: seccompProfile must be RuntimeDefault", where)
	}
	if len(spec.Containers) != 1 {
		t.Fatalf("%s: want one container, got %d", where, len(spec.Containers))
	}
	c := spec.Containers[0]
	if c.Image == "" {
		t.Errorf("%s: no image", where)
	}
	if len(c.Ports) != 1 || c.Ports[0].ContainerPort != metricsPort || c.Ports[0].Name != metricsPortName {
		t.Errorf("%s: the container must expose %d named %s, got %+v", where, metricsPort, metricsPortName, c.Ports)
	}
	probe := func(kind string, p *corev1.Probe, want string) {
		if p == nil || p.HTTPGet == nil {
			t.Errorf("%s: no HTTP %s probe", where, kind)
			return
		}
		if p.HTTPGet.Path != want {
			t.Errorf("%s: %s probe path %q, want %q", where, kind, p.HTTPGet.Path, want)
		}
		if p.HTTPGet.Port != intstr.FromString(metricsPortName) && p.HTTPGet.Port != intstr.FromInt32(metricsPort) {
			t.Errorf("%s: %s probe port %s is not the metrics port", where, kind, p.HTTPGet.Port.String())
		}
	}
	probe("liveness", c.LivenessProbe, "/-/healthy")
	probe("readiness", c.ReadinessProbe, "/-/ready")
	if c.StartupProbe != nil {
		probe("startup", c.StartupProbe, "/-/healthy")
	}
	csc := c.SecurityContext
	switch {
	case csc == nil:
		t.Fatalf("%s: no container securityContext", where)
	case csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem:
		t.Errorf("%s: readOnlyRootFilesystem must be true", where)
	case csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation:
		t.Errorf("%s: allowPrivilegeEscalation must be false", where)
	case csc.Capabilities == nil || !slices.Equal(csc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(csc.Capabilities.Add) > 0:
		t.Errorf("%s: capabilities must drop ALL and add none", where)
	case csc.Privileged != nil && *csc.Privileged:
		t.Errorf("%s: privileged", where)
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if q, ok := c.Resources.Requests[r]; !ok || q.IsZero() {
			t.Errorf("%s: no %s request", where, r)
		}
	}
	if q, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok || q.IsZero() {
		t.Errorf("%s: no memory limit", where)
	}
	for _, vm := range c.VolumeMounts {
		if !vm.ReadOnly {
			t.Errorf("%s: volume mount %s must be read-only", where, vm.Name)
		}
		if _, ok := volume(spec, vm.Name); !ok {
			t.Errorf("%s: volume mount %s has no volume", where, vm.Name)
		}
	}
	if file := checkArgs(t, where, c.Args); file != "" {
		checkConfig(t, m, where, spec, c, file)
	} else if !slices.Contains(c.Args, "--demo") {
		t.Errorf("%s: neither --config.file nor --demo", where)
	}

	// The Service selects these pods and targets the metrics port; the
	// ServiceMonitor selects the Service and scrapes its metrics port.
	var svc *corev1.Service
	for _, so := range m.all("Service") {
		s := so.obj.(*corev1.Service)
		sel := true
		for k, v := range s.Spec.Selector {
			sel = sel && tmpl.Labels[k] == v
		}
		if !sel || len(s.Spec.Selector) == 0 {
			continue
		}
		svc = s
		if len(s.Spec.Ports) != 1 || s.Spec.Ports[0].Name != metricsPortName ||
			(s.Spec.Ports[0].TargetPort != intstr.FromString(metricsPortName) && s.Spec.Ports[0].TargetPort != intstr.FromInt32(metricsPort)) {
			t.Errorf("%s: the Service port must be %s targeting the container's metrics port, got %+v", so.where, metricsPortName, s.Spec.Ports)
		}
	}
	if svc == nil {
		t.Fatalf("%s: no Service selects the pods", where)
	}
	for _, smo := range m.all("ServiceMonitor") {
		sm := smo.obj.(*monitoringv1.ServiceMonitor)
		for k, v := range sm.Spec.Selector.MatchLabels {
			if svc.Labels[k] != v {
				t.Errorf("%s: selector %s=%s does not match the Service labels %v", smo.where, k, v, svc.Labels)
			}
		}
		if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != metricsPortName || sm.Spec.Endpoints[0].Path != "/metrics" {
			t.Errorf("%s: want one endpoint, port %s, path /metrics", smo.where, metricsPortName)
		}
	}
}

// checkRules asserts the PrometheusRule holds exactly the rules of
// deploy/prometheus, with the rules' default job selector job="ece-exporter"
// replaced by the job Prometheus gives these manifests' targets: the name of
// the Service the ServiceMonitor selects (prometheus-operator's default job
// label).
func checkRules(t *testing.T, m manifests) {
	t.Helper()
	job := ""
	for _, so := range m.all("Service") {
		job = so.obj.(*corev1.Service).Name
	}
	if m.count()["PrometheusRule"] > 0 && job == "" {
		t.Fatal("a PrometheusRule without a Service: no job for its selector")
	}
	const defaultSelector = `job="ece-exporter"`
	selectors := 0
	want := map[string]string{}
	for _, f := range rulegen.RuleFiles {
		b, err := os.ReadFile(filepath.Join("..", "prometheus", f))
		if err != nil {
			t.Fatal(err)
		}
		var rf struct {
			Groups []monitoringv1.RuleGroup `json:"groups"`
		}
		if err := yaml.UnmarshalStrict(b, &rf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				selectors += strings.Count(r.Expr.String(), defaultSelector)
				want[r.Record+r.Alert] = strings.ReplaceAll(r.Expr.String(), defaultSelector, fmt.Sprintf("job=%q", job))
			}
		}
	}
	if selectors == 0 {
		t.Errorf("no rule of deploy/prometheus selects %s (ECEExporterDown's up selector)", defaultSelector)
	}
	for _, o := range m.all("PrometheusRule") {
		got := map[string]string{}
		for _, g := range o.obj.(*monitoringv1.PrometheusRule).Spec.Groups {
			for _, r := range g.Rules {
				got[r.Record+r.Alert] = r.Expr.String()
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: rules differ from deploy/prometheus/*.yml", o.where)
		}
	}
}

func checkCommon(t *testing.T, m manifests) {
	t.Helper()
	for _, o := range m.all("Deployment") {
		d := o.obj.(*appsv1.Deployment)
		if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
			t.Errorf("%s: an unsharded exporter runs one replica", o.where)
		}
		checkWorkload(t, m, o, d.Spec.Selector.MatchLabels, d.Spec.Template)
	}
	for _, o := range m.all("StatefulSet") {
		s := o.obj.(*appsv1.StatefulSet)
		checkWorkload(t, m, o, s.Spec.Selector.MatchLabels, s.Spec.Template)
		so, ok := m.get("Service", s.Spec.ServiceName)
		if !ok {
			t.Errorf("%s: serviceName %q is not in the manifests", o.where, s.Spec.ServiceName)
		} else if so.obj.(*corev1.Service).Spec.ClusterIP != corev1.ClusterIPNone {
			t.Errorf("%s: the governing Service of a StatefulSet should be headless", so.where)
		}
	}
	checkRules(t, m)
}

// ---------------------------------------------------------------- kustomize

func TestKustomizeBase(t *testing.T) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	res, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join("..", "kubernetes"))
	if err != nil {
		t.Fatalf("kustomize build deploy/kubernetes: %v", err)
	}
	out, err := res.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	m := decodeAll(t, "kustomize", out)

	// The example Secret is not in the base (applying the base must never
	// replace a real key); add it the way the README says, then check.
	b, err := os.ReadFile(filepath.Join("..", "kubernetes", "secret.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if m.count()["Secret"] != 0 {
		t.Error("the kustomize base must not contain a Secret")
	}
	m.objs = append(m.objs, decodeAll(t, "secret.example.yaml", b).objs...)

	want := map[string]int{"Deployment": 1, "Service": 1, "ServiceAccount": 1, "ConfigMap": 1, "Secret": 1, "ServiceMonitor": 1, "PrometheusRule": 1}
	if got := m.count(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("kustomize: objects %v, want %v", got, want)
	}
	for _, o := range m.objs {
		var ns string
		switch v := o.obj.(type) {
		case *appsv1.Deployment:
			ns = v.Namespace
		case *corev1.Service:
			ns = v.Namespace
		case *corev1.ServiceAccount:
			ns = v.Namespace
		case *corev1.ConfigMap:
			ns = v.Namespace
			// configMapGenerator: the name carries a content hash, so a
			// config change rolls the pods.
			if !regexp.MustCompile(`^ece-exporter-config-[a-z0-9]{10}$`).MatchString(v.Name) {
				t.Errorf("%s: expected a hashed generated name", o.where)
			}
		case *corev1.Secret:
			ns = v.Namespace
		case *monitoringv1.ServiceMonitor:
			ns = v.Namespace
		case *monitoringv1.PrometheusRule:
			ns = v.Namespace
		}
		if ns != "monitoring" {
			t.Errorf("%s: namespace %q, want monitoring", o.where, ns)
		}
	}
	checkCommon(t, m)
}

// TestPrometheusRuleUpToDate keeps deploy/kubernetes/prometheusrule.yaml
// equal to what the generator makes of deploy/prometheus/*.yml.
func TestPrometheusRuleUpToDate(t *testing.T) {
	want, err := rulegen.Generate(filepath.Join("..", "prometheus"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join("..", "kubernetes", "prometheusrule.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("deploy/kubernetes/prometheusrule.yaml is out of date: cd deploy/validate && go run ./cmd/gen-prometheusrule")
	}
}

// ---------------------------------------------------------------- helm

func helmBin(t *testing.T) string {
	t.Helper()
	if h := os.Getenv("HELM"); h != "" {
		return h
	}
	if p, err := exec.LookPath("helm"); err == nil {
		return p
	}
	// deploy/check.sh says SKIPPED for these cases when it has no helm;
	// with DEPLOY_CHECK_INSTALL=1 (CI) it installs helm, so none is a failure.
	if os.Getenv("DEPLOY_CHECK_INSTALL") == "1" {
		t.Fatal("helm not found: DEPLOY_CHECK_INSTALL=1 bash deploy/check.sh installs it (or set HELM=/path/to/helm)")
	}
	t.Skip("helm not found: DEPLOY_CHECK_INSTALL=1 bash deploy/check.sh installs it (or set HELM=/path/to/helm)")
	return ""
}

var chartDir = filepath.Join("..", "helm", "ece-exporter")

// helmTemplate renders the chart; values are YAML documents passed with -f.
func helmTemplate(t *testing.T, values ...string) ([]byte, error) {
	t.Helper()
	args := []string{"template", "rel", chartDir, "--namespace", "monitoring"}
	for i, v := range values {
		f := filepath.Join(t.TempDir(), fmt.Sprintf("values-%d.yaml", i))
		if err := os.WriteFile(f, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-f", f)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(helmBin(t), args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		// Drop helm's notes about the symlinked files/ from the error.
		var msg []string
		for _, l := range strings.Split(stderr.String(), "\n") {
			if !strings.Contains(l, "found symbolic link") && strings.TrimSpace(l) != "" {
				msg = append(msg, l)
			}
		}
		return nil, fmt.Errorf("helm template: %v: %s", err, strings.Join(msg, "\n"))
	}
	return out, nil
}

const allFeatures = `
existingSecret: my-ece-key
existingSecretKey: key
serviceMonitor: {enabled: true, labels: {release: kube-prometheus-stack}}
prometheusRule: {enabled: true}
dashboard: {enabled: true, annotations: {grafana_folder: Elastic Cloud}}
sharding: {enabled: true, totalShards: 3}
extraArgs: ["--collector.upgrades"]
podLabels: {team: finops}
`

func TestHelmTemplate(t *testing.T) {
	example, err := os.ReadFile(filepath.Join("..", "..", "config.example.yml"))
	if err != nil {
		t.Fatal(err)
	}
	// config.example.yml reads its keys from files/env of its own; point
	// every account at the mounted Secret, keep everything else.
	var ex map[string]any
	if err := yaml.Unmarshal(example, &ex); err != nil {
		t.Fatal(err)
	}
	for _, a := range ex["accounts"].([]any) {
		acc := a.(map[string]any)
		for _, k := range []string{"api_key_env", "api_key", "username", "password_file"} {
			delete(acc, k)
		}
		acc["api_key_file"] = "/etc/ece_exporter/secrets/api-key"
		if tls, ok := acc["tls"].(map[string]any); ok {
			for _, k := range []string{"ca_file", "cert_file", "key_file"} {
				delete(tls, k)
			}
		}
	}
	exampleValues, err := yaml.Marshal(map[string]any{"config": ex, "apiKey": "x"})
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name   string
		values []string
		want   map[string]int
		check  func(t *testing.T, m manifests, out []byte)
	}{
		{
			name:   "defaults",
			values: []string{"apiKey: x"},
			want:   map[string]int{"Deployment": 1, "Service": 1, "ConfigMap": 1, "Secret": 1, "ServiceAccount": 1},
		},
		{
			name:   "all features",
			values: []string{allFeatures},
			want:   map[string]int{"StatefulSet": 1, "Service": 1, "ConfigMap": 2, "ServiceAccount": 1, "ServiceMonitor": 1, "PrometheusRule": 1},
			check: func(t *testing.T, m manifests, out []byte) {
				s := m.all("StatefulSet")[0].obj.(*appsv1.StatefulSet)
				if s.Spec.Replicas == nil || *s.Spec.Replicas != 3 {
					t.Errorf("want 3 replicas, one per shard")
				}
				args := s.Spec.Template.Spec.Containers[0].Args
				if !slices.Contains(args, "--shard.from-hostname") || !slices.Contains(args, "--total-shards=3") {
					t.Errorf("sharding args missing: %v", args)
				}
				// The daemon derives each pod's shard from its StatefulSet pod name.
				for i := range 3 {
					n, err := collector.OrdinalFromHostname(fmt.Sprintf("%s-%d", s.Name, i))
					if err != nil || n != i {
						t.Errorf("pod %s-%d: shard %d, %v", s.Name, i, n, err)
					}
				}
				if v := s.Spec.Template.Spec.Volumes[1]; v.Secret == nil || v.Secret.SecretName != "my-ece-key" || v.Secret.Items[0].Key != "key" {
					t.Errorf("existingSecret/existingSecretKey not used: %+v", v)
				}
				if s.Spec.Template.Labels["team"] != "finops" {
					t.Error("podLabels not applied")
				}
				dash, ok := m.get("ConfigMap", "rel-ece-exporter-dashboard")
				if !ok {
					t.Fatal("no dashboard ConfigMap")
				}
				cm := dash.obj.(*corev1.ConfigMap)
				if cm.Labels["grafana_dashboard"] != "1" {
					t.Error(`the dashboard ConfigMap needs grafana_dashboard: "1" for the Grafana sidecar`)
				}
				files, err := filepath.Glob(filepath.Join("..", "grafana", "dashboards", "*.json"))
				if err != nil || len(files) < 5 {
					t.Fatalf("deploy/grafana/dashboards: %v %v", files, err)
				}
				if len(cm.Data) != len(files) {
					t.Errorf("the dashboard ConfigMap has %d dashboards, deploy/grafana/dashboards %d", len(cm.Data), len(files))
				}
				for _, f := range files {
					file, err := os.ReadFile(f)
					if err != nil {
						t.Fatal(err)
					}
					key := filepath.Base(f)
					if !json.Valid([]byte(cm.Data[key])) || strings.TrimSpace(cm.Data[key]) != strings.TrimSpace(string(file)) {
						t.Errorf("the dashboard ConfigMap does not carry deploy/grafana/dashboards/%s", key)
					}
				}
				sm := m.all("ServiceMonitor")[0].obj.(*monitoringv1.ServiceMonitor)
				if sm.Labels["release"] != "kube-prometheus-stack" {
					t.Error("serviceMonitor.labels not applied")
				}
			},
		},
		{
			name:   "sharding with the pod-index label",
			values: []string{"apiKey: x\nsharding: {enabled: true, totalShards: 4, ordinalSource: podIndexLabel}"},
			want:   map[string]int{"StatefulSet": 1, "Service": 1, "ConfigMap": 1, "Secret": 1, "ServiceAccount": 1},
			check: func(t *testing.T, m manifests, out []byte) {
				c := m.all("StatefulSet")[0].obj.(*appsv1.StatefulSet).Spec.Template.Spec.Containers[0]
				if !slices.Contains(c.Args, "--shard=$(SHARD)") || !slices.Contains(c.Args, "--total-shards=4") {
					t.Errorf("args %v", c.Args)
				}
				if len(c.Env) != 1 || c.Env[0].Name != "SHARD" || c.Env[0].ValueFrom == nil || c.Env[0].ValueFrom.FieldRef == nil ||
					c.Env[0].ValueFrom.FieldRef.FieldPath != "metadata.labels['apps.kubernetes.io/pod-index']" {
					t.Errorf("SHARD must come from the pod-index label: %+v", c.Env)
				}
			},
		},
		{
			name:   "demo",
			values: []string{"demo: true"},
			want:   map[string]int{"Deployment": 1, "Service": 1, "ServiceAccount": 1},
		},
		{
			name:   "config.example.yml as config",
			values: []string{string(exampleValues)},
			want:   map[string]int{"Deployment": 1, "Service": 1, "ConfigMap": 1, "Secret": 1, "ServiceAccount": 1},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := helmTemplate(t, tc.values...)
			if err != nil {
				t.Fatal(err)
			}
			m := decodeAll(t, "helm "+tc.name, out)
			if got := m.count(); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("objects %v, want %v", got, tc.want)
			}
			checkCommon(t, m)
			if tc.check != nil {
				tc.check(t, m, out)
			}
		})
	}
}

// TestHelmConfigChecksum: a config change changes the pod template, so
// `helm upgrade` rolls the pods.
func TestHelmConfigChecksum(t *testing.T) {
	sum := func(values string) string {
		out, err := helmTemplate(t, values)
		if err != nil {
			t.Fatal(err)
		}
		d := decodeAll(t, "checksum", out).all("Deployment")[0].obj.(*appsv1.Deployment)
		s := d.Spec.Template.Annotations["checksum/config"]
		if len(s) != 64 {
			t.Fatalf("no checksum/config annotation: %v", d.Spec.Template.Annotations)
		}
		return s
	}
	a := sum("apiKey: x")
	b := sum("apiKey: x\nconfig: {accounts: [{name: production, api_key_file: /etc/ece_exporter/secrets/api-key}], collectors: {billing: {interval: 2h}}}")
	if a == b {
		t.Error("checksum/config did not change with the config")
	}
}

// TestHelmRejects: values.schema.json and the templates refuse mistakes at
// install time instead of a crash-looping pod.
func TestHelmRejects(t *testing.T) {
	for _, tc := range []struct{ name, values, want string }{
		{"no API key", "{}", "set apiKey"},
		{"unknown top-level key", "apiKey: x\nreplicas: 2", "replicas"},
		{"misspelt config key", "apiKey: x\nconfig: {accounts: [{name: p, api_keyfile: /x}]}", "api_keyfile"},
		{"bad duration", "apiKey: x\nconfig: {accounts: [{name: p}], collectors: {billing: {interval: hourly}}}", "interval"},
		{"bad account name", "apiKey: x\nconfig: {accounts: [{name: Prod}]}", "name"},
		{"no accounts", "apiKey: x\nconfig: {accounts: []}", "accounts"},
		{"zero shards", "apiKey: x\nsharding: {enabled: true, totalShards: 0}", "totalShards"},
		{"bad ordinal source", "apiKey: x\nsharding: {enabled: true, ordinalSource: env}", "ordinalSource"},
		{"bad pull policy", "apiKey: x\nimage: {repository: r, pullPolicy: Sometimes}", "pullPolicy"},
		{"bad log level", "apiKey: x\nlog: {level: trace}", "level"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := helmTemplate(t, tc.values)
			if err == nil {
				t.Fatalf("accepted:\n%s", tc.values)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error does not name %q: %v", tc.want, err)
			}
		})
	}
}

// TestChartLeavesCollectorOptionsToTheExporter: the chart's schema checks
// only the shape collector options share (each collector declares its own
// options in its file, and the registry is the one list of collectors), so
// a misspelt collector passes helm; the exporter's own decoding of the
// rendered configuration refuses it, naming it, at start (and
// --config.check does).
func TestChartLeavesCollectorOptionsToTheExporter(t *testing.T) {
	out, err := helmTemplate(t, "apiKey: x\nconfig: {accounts: [{name: p}], collectors: {biling: {interval: 1h}}}")
	if err != nil {
		t.Fatal(err)
	}
	cms := decodeAll(t, "helm biling", out).all("ConfigMap")
	if len(cms) != 1 {
		t.Fatalf("want one ConfigMap, got %d", len(cms))
	}
	for _, data := range cms[0].obj.(*corev1.ConfigMap).Data {
		_, err := config.Parse([]byte(data), config.WithReadFile(func(string) ([]byte, error) { return []byte("k"), nil }))
		if err == nil || !strings.Contains(err.Error(), "collectors.biling: unknown collector") {
			t.Errorf("the exporter accepts a misspelt collector: %v", err)
		}
	}
	// And the schema still checks the shape every collector shares.
	if _, err := helmTemplate(t, "apiKey: x\nconfig: {accounts: [{name: p}], collectors: {billing: {interval: hourly}}}"); err == nil || !strings.Contains(err.Error(), "interval") {
		t.Errorf("a bad interval passes the schema: %v", err)
	}
}

// ---------------------------------------------------------------- compose

func TestComposeTour(t *testing.T) {
	opts, err := cli.NewProjectOptions([]string{filepath.Join("..", "docker-compose.yml")},
		cli.WithName("ece-exporter-tour"), cli.WithWorkingDirectory(".."), cli.WithResolvedPaths(true))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("compose-go rejects deploy/docker-compose.yml: %v", err)
	}
	for _, name := range []string{"ece-exporter", "prometheus", "grafana"} {
		if _, ok := p.Services[name]; !ok {
			t.Fatalf("no service %s", name)
		}
	}
	exp := p.Services["ece-exporter"]
	if exp.Build == nil {
		t.Fatal("ece-exporter is not built from the Dockerfile")
	}
	if _, err := os.Stat(filepath.Join(exp.Build.Context, exp.Build.Dockerfile)); err != nil {
		t.Errorf("ece-exporter build: %v", err)
	}
	if !slices.Contains([]string(exp.Command), "--demo") {
		t.Errorf("ece-exporter must run --demo, got %v", exp.Command)
	}
	// Every bind mount's source exists.
	mounts := map[string]string{} // target -> source
	for _, name := range []string{"prometheus", "grafana"} {
		for _, v := range p.Services[name].Volumes {
			if v.Type != "bind" {
				continue
			}
			if _, err := os.Stat(v.Source); err != nil {
				t.Errorf("%s mounts %s: %v", name, v.Source, err)
			}
			mounts[v.Target] = v.Source
		}
	}
	// Prometheus scrapes the exporter service and loads the shipped rules.
	promCfg := ""
	for i, a := range p.Services["prometheus"].Command {
		if v, ok := strings.CutPrefix(a, "--config.file="); ok {
			promCfg = v
		} else if a == "--config.file" && i+1 < len(p.Services["prometheus"].Command) {
			promCfg = p.Services["prometheus"].Command[i+1]
		}
	}
	if promCfg == "" {
		promCfg = "/etc/prometheus/prometheus.yml"
	}
	src, ok := mounts[promCfg]
	if !ok {
		t.Fatalf("prometheus config %s is not mounted", promCfg)
	}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var pc struct {
		RuleFiles     []string `json:"rule_files"`
		ScrapeConfigs []struct {
			JobName       string `json:"job_name"`
			StaticConfigs []struct {
				Targets []string `json:"targets"`
			} `json:"static_configs"`
		} `json:"scrape_configs"`
	}
	if err := yaml.Unmarshal(b, &pc); err != nil {
		t.Fatal(err)
	}
	target := false
	for _, sc := range pc.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			target = target || slices.Contains(st.Targets, fmt.Sprintf("ece-exporter:%d", metricsPort))
		}
	}
	if !target {
		t.Errorf("%s does not scrape ece-exporter:%d", src, metricsPort)
	}
	for _, rf := range []string{"alerts.yml", "recording.yml"} {
		loaded := false
		for target, source := range mounts {
			if filepath.Base(source) != rf {
				continue
			}
			for _, glob := range pc.RuleFiles {
				if ok, _ := path.Match(glob, target); ok {
					loaded = true
				}
			}
		}
		if !loaded {
			t.Errorf("prometheus does not load %s", rf)
		}
	}
	// Grafana gets the provisioning and the dashboard file where the
	// provider looks.
	prov, ok := mounts["/etc/grafana/provisioning"]
	if !ok {
		t.Fatal("grafana provisioning is not mounted")
	}
	b, err = os.ReadFile(filepath.Join(prov, "dashboards", "ece-exporter.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var dp struct {
		Providers []struct {
			Options struct {
				Path string `json:"path"`
			} `json:"options"`
		} `json:"providers"`
	}
	if err := yaml.Unmarshal(b, &dp); err != nil || len(dp.Providers) != 1 {
		t.Fatalf("dashboard provider: %v", err)
	}
	// The generated dashboards' directory is mounted where the provider
	// looks, and the home dashboard is one of them.
	found := false
	for target, source := range mounts {
		if filepath.Base(source) == "dashboards" && path.Clean(target) == path.Clean(dp.Providers[0].Options.Path) {
			found = true
			if files, _ := filepath.Glob(filepath.Join(source, "*.json")); len(files) < 5 {
				t.Errorf("%s holds %d dashboards", source, len(files))
			}
			home := p.Services["grafana"].Environment["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
			if home == nil || path.Dir(*home) != path.Clean(target) {
				t.Errorf("the home dashboard %v is not under %s", home, target)
			} else if _, err := os.Stat(filepath.Join(source, path.Base(*home))); err != nil {
				t.Errorf("the home dashboard: %v", err)
			}
		}
	}
	if !found {
		t.Errorf("deploy/grafana/dashboards is not mounted under %s", dp.Providers[0].Options.Path)
	}
}
