package collector

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-kit/log/level"

	"github.com/ece-exporter/ece_exporter/config"
	"github.com/ece-exporter/ece_exporter/eceapi"
)

// The deployment_health collector walks POST /deployments/_search once per
// poll, page by page (never one call per deployment), and exposes what the
// console shows and what Elastic e-mails about: deployment and resource
// health, plan state, running versions, Elasticsearch shard, master and
// snapshot state, system alerts (out-of-memory restarts), and every
// instance's memory pressure and disk. Include/exclude filters and sharding
// apply as for the deployments collector.
//
// Discovery stays with the deployments collector (GET /deployments), on
// purpose. Measured against the simulator at 5,000 deployments
// (TestDeploymentHealthAnswerSize, go test -run AnswerSize -v ./collector/):
// the _search walk is 20 pages and 29.9 MiB (6.1 KiB per deployment), the
// GET /deployments list one call of 3.3 MiB, a ninth of it. Feeding
// discovery from this walk would save that one call per discovery interval
// but would make the remote_clusters, billing and upgrades collectors depend
// on a collector users may turn off or slow down, on 20 calls where one
// does, and on a body that grows with every instance of every deployment; a
// failed page would also stop discovery. One small list call is worth
// keeping.

const deploymentHealthName = "deployment_health"

// healthPageSize is the page size of the walk: at about 6 KB per deployment
// in the simulator a page is 1.5 MB, far below http.max_body_bytes, and
// 5,000 deployments take 20 calls.
const healthPageSize = 250

// healthMaxPages bounds one walk (a quarter of a million deployments): a
// cursor that never ends must not loop forever.
const healthMaxPages = 1000

// DeploymentHealthOptions are the options of the deployment_health
// collector (collectors.deployment_health).
type DeploymentHealthOptions struct {
	Interval config.Duration `yaml:"interval"`
	// Tags are the keys of deployment tags (metadata.tags) exported as
	// tag_<key> labels of ece_deployment_tag_info; none by default.
	Tags []string `yaml:"tags"`
}

// PollInterval implements config.CollectorOptions.
func (o DeploymentHealthOptions) PollInterval() config.Duration { return o.Interval }

// Validate implements config.CollectorOptions: every tag key is non-empty
// and listed once.
func (o DeploymentHealthOptions) Validate() error {
	var errs []error
	seen := map[string]bool{}
	for i, k := range o.Tags {
		switch {
		case strings.TrimSpace(k) == "":
			errs = append(errs, fmt.Errorf("tags[%d]: must not be empty", i))
		case seen[k]:
			errs = append(errs, fmt.Errorf("tags[%d]: %q: listed twice", i, k))
		}
		seen[k] = true
	}
	return errors.Join(errs...)
}

// UnmarshalYAML decodes the options over the defaults (strictly: config's
// decoder settings apply) and reads tags: [] as the default, no tags.
func (o *DeploymentHealthOptions) UnmarshalYAML(unmarshal func(any) error) error {
	type plain DeploymentHealthOptions
	if err := unmarshal((*plain)(o)); err != nil {
		return err
	}
	if len(o.Tags) == 0 {
		o.Tags = nil
	}
	return nil
}

func init() {
	registerCollector(Registration{
		Name:           deploymentHealthName,
		DefaultEnabled: true,
		MinInterval:    30 * time.Second,
		Defaults:       DeploymentHealthOptions{Interval: config.NewDuration(2 * time.Minute)},
		New:            newDeploymentHealthSource,
	})
}

// resourceStatuses are the values of the spec's status enum of every kind's
// info (ElasticsearchClusterInfo.status, KibanaClusterInfo.status, ...).
var resourceStatuses = []string{"initializing", "stopping", "stopped", "rebooting", "restarting", "reconfiguring", "started"}

// shardStatuses are ElasticsearchShardsStatus.status.
var shardStatuses = []string{"green", "yellow", "red"}

// snapshotStatuses are the states of an Elasticsearch snapshot, which
// SnapshotStatusInfo.latest_status carries (a plain string in the spec).
var snapshotStatuses = []string{"SUCCESS", "IN_PROGRESS", "PARTIAL", "FAILED", "INCOMPATIBLE"}

// systemAlertTypes are ClusterSystemAlert.alert_type.
var systemAlertTypes = []string{"automatic_restart", "heap_dump", "unknown_event"}

type deploymentHealthSource struct {
	env Env
	// pageSize is the size of the walk's pages (healthPageSize; tests
	// shrink it to walk small fixtures over several pages).
	pageSize int
	// tagKeys are the allow-listed tag keys, in the order of tagInfo's
	// labels after deployment_id.
	tagKeys []string

	healthy, tagInfo *seriesDesc

	resHealthy, resStatus, resPlanHealthy, resPlanPending, resPendingStart, resLastAttemptEnd, resVersion *seriesDesc

	shards, blocking, masterHealthy, masters                                                   *seriesDesc
	snapHealthy, snapRecent, snapCount, snapLatestSuccess, snapLatestStatus, alerts, alertLast *seriesDesc

	instHealthy, instRunning, instMaintenance, instMemory, instPressure, instNativePressure, instDiskUsed, instDiskCap, instInfo *seriesDesc
}

func newDeploymentHealthSource(env Env) (Source, error) {
	f := env.descSet(deploymentHealthName)
	c := &deploymentHealthSource{env: env, pageSize: healthPageSize}
	tagLabels := []string{"deployment_id"}
	seen := map[string]string{}
	for _, k := range optionsOf[DeploymentHealthOptions](env, deploymentHealthName).Tags {
		l := tagLabel(k)
		if other, dup := seen[l]; dup {
			if env.Logger != nil {
				level.Warn(env.Logger).Log("msg", "two allow-listed tag keys give the same label name; the first is used", "collector", deploymentHealthName, "label", l, "used", other, "ignored", k)
			}
			continue
		}
		seen[l] = k
		c.tagKeys = append(c.tagKeys, k)
		tagLabels = append(tagLabels, l)
	}
	dep := []string{"deployment_id"}
	res := []string{"deployment_id", "kind", "ref_id"}
	es := []string{"deployment_id", "ref_id"}
	inst := []string{"deployment_id", "kind", "ref_id", "instance_name"}
	c.healthy = f.desc("deployment_healthy", "Whether the deployment is healthy (1) or not (0), as the API reports it.", dep...)
	c.tagInfo = f.desc("deployment_tag_info", "Deployment tags (metadata.tags) whose keys are allow-listed in collectors.deployment_health.tags, as tag_<key> labels (\"\" when the deployment lacks the tag), value 1.", tagLabels...)

	c.resHealthy = f.desc("deployment_resource_healthy", "Whether the resource is healthy (1) or not (0).", res...)
	c.resStatus = f.desc("deployment_resource_status", "Status of the resource as a state set: 1 for the current status, 0 for the others.", append(res, "status")...)
	c.resPlanHealthy = f.desc("deployment_resource_plan_healthy", "Whether the resource's plans are healthy (1) or the last plan attempt failed (0).", res...)
	c.resPlanPending = f.desc("deployment_resource_plan_pending", "Whether a plan change is pending (in progress) on the resource (1) or not (0).", res...)
	c.resPendingStart = f.desc("deployment_resource_plan_pending_start_timestamp_seconds", "When the attempt of the pending plan started; absent when no plan is pending.", res...)
	c.resLastAttemptEnd = f.desc("deployment_resource_plan_last_attempt_end_timestamp_seconds", "When the last finished plan attempt (current or history) ended.", res...)
	c.resVersion = f.desc("deployment_resource_version_info", "Stack version the resource runs (its current plan's version), value 1.", append(res, "version")...)

	c.shards = f.desc("elasticsearch_shards_status", "Elasticsearch cluster health colour as a state set: 1 for the current one.", append(es, "status")...)
	c.blocking = f.desc("elasticsearch_blocking_issues", "Number of cluster-level and index-level blocking issues of the Elasticsearch resource.", es...)
	c.masterHealthy = f.desc("elasticsearch_master_healthy", "Whether every instance sees the one elected master (1) or not (0).", es...)
	c.masters = f.desc("elasticsearch_masters", "Number of elected masters the instances report (more than 1 is a split).", es...)
	c.snapHealthy = f.desc("elasticsearch_snapshot_healthy", "Whether the snapshots of the Elasticsearch resource are healthy (1) or not (0).", es...)
	c.snapRecent = f.desc("elasticsearch_snapshot_recent_success", "Whether the resource has a relatively recent successful snapshot (1) or not (0).", es...)
	c.snapCount = f.desc("elasticsearch_snapshots", "Number of snapshots stored for the Elasticsearch resource.", es...)
	c.snapLatestSuccess = f.desc("elasticsearch_snapshot_latest_success_timestamp_seconds", "When the most recent successful snapshot ended; absent when there is none.", es...)
	c.snapLatestStatus = f.desc("elasticsearch_snapshot_latest_status", "Status of the latest snapshot attempt as a state set: 1 for the current one.", append(es, "status")...)
	c.alerts = f.desc("elasticsearch_system_alerts", "Number of system alerts of each type in the window the API returns (a gauge, not a counter: old alerts leave the window). automatic_restart is an instance restarted after running out of memory.", append(es, "alert_type")...)
	c.alertLast = f.desc("elasticsearch_system_alert_last_timestamp_seconds", "When the most recent system alert of the type happened; absent when there is none in the window.", append(es, "alert_type")...)

	c.instHealthy = f.desc("instance_healthy", "Whether the instance is healthy (1) or not (0).", inst...)
	c.instRunning = f.desc("instance_service_running", "Whether the instance's service is running (1) or not (0).", inst...)
	c.instMaintenance = f.desc("instance_maintenance_mode", "Whether the instance is in maintenance mode (1) or not (0).", inst...)
	c.instMemory = f.desc("instance_memory_capacity_bytes", "Memory capacity of the instance (the API's MB times 2^20).", inst...)
	c.instPressure = f.desc("instance_memory_pressure_ratio", "JVM heap memory pressure of the instance (0-1); absent when unknown.", inst...)
	c.instNativePressure = f.desc("instance_native_memory_pressure_ratio", "Memory pressure of the instance's container (0-1); absent when unknown.", inst...)
	c.instDiskUsed = f.desc("instance_disk_used_bytes", "Disk space used by the instance's service.", inst...)
	c.instDiskCap = f.desc("instance_disk_capacity_bytes", "Total disk of the instance's container (the API's disk_space_available: its capacity, not what is left); absent when unknown.", inst...)
	c.instInfo = f.desc("instance_info", "Where the instance runs, value 1.", append(inst, "zone")...)
	return c, nil
}

// tagLabel turns a tag key into a label name: tag_ followed by the key with
// every character outside [a-zA-Z0-9_] replaced by "_" (the model of
// kube-state-metrics' label_<key>).
func tagLabel(key string) string {
	var b strings.Builder
	b.WriteString("tag_")
	for _, r := range key {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// errSearchLoop: the API sent a cursor it had sent before.
var errSearchLoop = errors.New("the API sent the same cursor twice")

func (c *deploymentHealthSource) Poll(ctx context.Context) (*Snapshot, error) {
	s := NewSnapshot(c.env.Account.Name)
	req := &eceapi.SearchRequest{Size: c.pageSize, Sort: eceapi.SortByID}
	seen := map[string]struct{}{}
	cursors := map[string]struct{}{}
	for page := 1; ; page++ {
		if page > healthMaxPages {
			return nil, fmt.Errorf("search deployments: more than %d pages of %d", healthMaxPages, c.pageSize)
		}
		res, _, err := c.env.Client.Deployments.Search(ctx, req)
		if err != nil {
			// A partial walk would drop the series of the deployments on
			// the pages not read: keep the last good snapshot instead.
			return nil, fmt.Errorf("page %d: %w", page, err)
		}
		for i := range res.Deployments {
			d := &res.Deployments[i]
			if _, dup := seen[d.ID]; dup || d.ID == "" {
				continue
			}
			seen[d.ID] = struct{}{}
			if !c.env.Account.Deployments.Match(d.ID, d.Name) || (c.env.Sharder != nil && !c.env.Sharder.OwnsDeployment(d.ID)) {
				continue
			}
			c.deployment(s, d)
		}
		// The end: an empty page, no cursor, or a short page (the cursor
		// keeps the first request's size). Not match_count: the spec only
		// promises it "if a query is supplied" (we send none) and it may
		// be capped, so it is at most a lower bound; stopping on it would
		// drop the deployments past the cap.
		if len(res.Deployments) == 0 || res.Cursor == "" || len(res.Deployments) < c.pageSize {
			return s, nil
		}
		if _, again := cursors[res.Cursor]; again {
			return nil, fmt.Errorf("search deployments page %d: %w", page, errSearchLoop)
		}
		cursors[res.Cursor] = struct{}{}
		// With a cursor, the API ignores every other field.
		req = &eceapi.SearchRequest{Cursor: res.Cursor}
	}
}

func (c *deploymentHealthSource) deployment(s *Snapshot, d *eceapi.DeploymentSearchResponse) {
	s.gauge(c.healthy, boolFloat(d.Healthy), d.ID)
	if len(c.tagKeys) > 0 {
		lv := make([]string, 1, 1+len(c.tagKeys))
		lv[0] = d.ID
		for _, k := range c.tagKeys {
			v := ""
			if d.Metadata != nil {
				for _, t := range d.Metadata.Tags {
					if t.Key == k {
						v = t.Value
						break
					}
				}
			}
			lv = append(lv, v)
		}
		s.gauge(c.tagInfo, 1, lv...)
	}
	done := map[[2]string]struct{}{}
	first := func(kind, ref string) bool {
		k := [2]string{kind, ref}
		if _, dup := done[k]; dup || ref == "" {
			return false
		}
		done[k] = struct{}{}
		return true
	}
	for i := range d.Resources.Elasticsearch {
		r := &d.Resources.Elasticsearch[i]
		if first("elasticsearch", r.RefID) {
			c.resource(s, d.ID, "elasticsearch", r.RefID, &r.Info.ResourceState)
			c.elasticsearch(s, d.ID, r.RefID, &r.Info)
		}
	}
	for _, group := range []struct {
		kind string
		list []eceapi.StatelessResourceInfo
	}{
		{"kibana", d.Resources.Kibana}, {"apm", d.Resources.APM}, {"appsearch", d.Resources.AppSearch},
		{"enterprise_search", d.Resources.EnterpriseSearch}, {"integrations_server", d.Resources.IntegrationsServer},
	} {
		for i := range group.list {
			r := &group.list[i]
			if first(group.kind, r.RefID) {
				c.resource(s, d.ID, group.kind, r.RefID, &r.Info)
			}
		}
	}
}

// stateSet adds one series per known value (1 for the current one) and one
// for a current value the list does not know, so that a new status shows.
func stateSet(s *Snapshot, d *seriesDesc, values []string, current string, lv ...string) {
	known := false
	for _, v := range values {
		s.gauge(d, boolFloat(v == current), append(lv, v)...)
		known = known || v == current
	}
	if !known && current != "" {
		s.gauge(d, 1, append(lv, current)...)
	}
}

func (c *deploymentHealthSource) resource(s *Snapshot, depID, kind, ref string, st *eceapi.ResourceState) {
	s.gauge(c.resHealthy, boolFloat(st.Healthy), depID, kind, ref)
	if st.Status != "" {
		stateSet(s, c.resStatus, resourceStatuses, st.Status, depID, kind, ref)
	}
	p := &st.PlanInfo
	s.gauge(c.resPlanHealthy, boolFloat(p.Healthy), depID, kind, ref)
	s.gauge(c.resPlanPending, boolFloat(p.Pending != nil), depID, kind, ref)
	if p.Pending != nil && p.Pending.AttemptStartTime != nil {
		s.gauge(c.resPendingStart, unixSeconds(*p.Pending.AttemptStartTime), depID, kind, ref)
	}
	var last time.Time
	if p.Current != nil && p.Current.AttemptEndTime != nil {
		last = *p.Current.AttemptEndTime
	}
	if n := len(p.History); n > 0 && p.History[n-1].AttemptEndTime != nil && p.History[n-1].AttemptEndTime.After(last) {
		last = *p.History[n-1].AttemptEndTime
	}
	if !last.IsZero() {
		s.gauge(c.resLastAttemptEnd, unixSeconds(last), depID, kind, ref)
	}
	version := ""
	if p.Current != nil {
		version = p.Current.Plan.Version()
	}
	if st.Topology != nil && version == "" && len(st.Topology.Instances) > 0 {
		version = st.Topology.Instances[0].ServiceVersion
	}
	if version != "" {
		s.gauge(c.resVersion, 1, depID, kind, ref, version)
	}
	if st.Topology == nil {
		return
	}
	seen := map[string]struct{}{}
	for i := range st.Topology.Instances {
		in := &st.Topology.Instances[i]
		if _, dup := seen[in.InstanceName]; dup || in.InstanceName == "" {
			continue
		}
		seen[in.InstanceName] = struct{}{}
		lv := []string{depID, kind, ref, in.InstanceName}
		s.gauge(c.instHealthy, boolFloat(in.Healthy), lv...)
		s.gauge(c.instRunning, boolFloat(in.ServiceRunning), lv...)
		s.gauge(c.instMaintenance, boolFloat(in.MaintenanceMode), lv...)
		s.gauge(c.instInfo, 1, depID, kind, ref, in.InstanceName, in.Zone)
		if m := in.Memory; m != nil {
			s.gauge(c.instMemory, m.InstanceCapacity*(1<<20), lv...)
			if m.MemoryPressure != nil {
				s.gauge(c.instPressure, *m.MemoryPressure/100, lv...)
			}
			if m.NativeMemoryPressure != nil {
				s.gauge(c.instNativePressure, *m.NativeMemoryPressure/100, lv...)
			}
		}
		if dk := in.Disk; dk != nil {
			s.gauge(c.instDiskUsed, dk.DiskSpaceUsed*(1<<20), lv...)
			if dk.DiskSpaceAvailable != nil {
				s.gauge(c.instDiskCap, *dk.DiskSpaceAvailable*(1<<20), lv...)
			}
		}
	}
}

func (c *deploymentHealthSource) elasticsearch(s *Snapshot, depID, ref string, info *eceapi.ElasticsearchClusterInfo) {
	if e := info.Elasticsearch; e != nil {
		if e.ShardsStatus != nil && e.ShardsStatus.Status != "" {
			stateSet(s, c.shards, shardStatuses, e.ShardsStatus.Status, depID, ref)
		}
		if b := e.BlockingIssues; b != nil {
			s.gauge(c.blocking, float64(len(b.ClusterLevel)+len(b.IndexLevel)), depID, ref)
		}
		if m := e.MasterInfo; m != nil {
			s.gauge(c.masterHealthy, boolFloat(m.Healthy), depID, ref)
			s.gauge(c.masters, float64(len(m.Masters)), depID, ref)
		}
	}
	if sn := info.Snapshots; sn != nil {
		s.gauge(c.snapHealthy, boolFloat(sn.Healthy), depID, ref)
		s.gauge(c.snapRecent, boolFloat(sn.RecentSuccess), depID, ref)
		s.gauge(c.snapCount, sn.Count, depID, ref)
		if sn.LatestSuccessfulEndTime != nil {
			s.gauge(c.snapLatestSuccess, unixSeconds(*sn.LatestSuccessfulEndTime), depID, ref)
		}
		if sn.LatestStatus != "" {
			stateSet(s, c.snapLatestStatus, snapshotStatuses, sn.LatestStatus, depID, ref)
		}
	}
	counts := map[string]int{}
	lastAt := map[string]time.Time{}
	var extra []string
	for _, a := range info.SystemAlerts {
		if a.AlertType == "" {
			continue
		}
		if _, ok := counts[a.AlertType]; !ok && !slices.Contains(systemAlertTypes, a.AlertType) {
			extra = append(extra, a.AlertType)
		}
		counts[a.AlertType]++
		if a.Timestamp.After(lastAt[a.AlertType]) {
			lastAt[a.AlertType] = a.Timestamp
		}
	}
	for _, t := range append(systemAlertTypes[:len(systemAlertTypes):len(systemAlertTypes)], extra...) {
		s.gauge(c.alerts, float64(counts[t]), depID, ref, t)
		if at, ok := lastAt[t]; ok {
			s.gauge(c.alertLast, unixSeconds(at), depID, ref, t)
		}
	}
}
