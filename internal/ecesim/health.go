package ecesim

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file serves POST /deployments/_search (search-deployments) and GET
// /stack/versions (get-version-stacks): the health, plans, topology,
// snapshots, tags and stack versions of the simulated deployments. The
// state of each deployment is derived from its index in the generated
// world (never from the world's random stream, so adding these answers
// changes no other answer), cycling with different periods so that every
// problem the exporter alerts on appears at any scale, from the 10
// deployments of the demo up:
//
//	index % 10 == 3  unhealthy: red shards, one instance down, a blocking issue, no master for one instance
//	index % 10 == 5  yellow shards
//	index %  7 == 2  a plan pending for two hours (status reconfiguring)
//	index %  9 == 4  the last plan attempt failed (plan_info.healthy false)
//	index %  8 == 6  no successful snapshot for 30 hours (recent_success and healthy false)
//	index % 11 == 7  the latest snapshot FAILED (the previous one succeeded 35 minutes ago)
//	index %  6 == 1  high memory pressure: 82 % and 91 % on its instances
//	index % 13 == 9  a disk at 95 %
//	index %  5 == 2  out-of-memory restarts (automatic_restart, exit code 137) 20 and 50 minutes ago, and a heap dump
//	index % 12 == 8  runs deletedVersion, which /stack/versions marks deleted
//	index %  5 == 4  no tags
//
// Search answers are sorted by deployment id. The cursor holds the last id
// of the page (search_after semantics), so a deployment deleted between
// two pages neither shifts nor repeats the others, and the size of the
// search it continues (a request with a cursor ignores its other fields). A page with
// deployments always carries a cursor; the page after the last one is
// empty and has none, so a client must stop on either. size defaults to
// defaultSearchSize and is capped at maxSearchSize. An unparsable body or
// cursor answers 400 root.invalid_json_request (the spec documents no
// error for the operation). minimal_metadata is not simulated.

const (
	opSearchDeployments = "search-deployments"
	opStackVersions     = "get-version-stacks"

	defaultSearchSize = 100
	maxSearchSize     = 1000
	cursorPrefix      = "sim-cursor:"

	// deletedVersion is a stack version marked deleted (and, in ESS, no
	// longer accessible) that some deployments still run.
	deletedVersion = "8.11.1"
)

// jsSearchRequest is the part of SearchRequest the simulator reads.
type jsSearchRequest struct {
	Size   *int   `json:"size"`
	Cursor string `json:"cursor"`
	From   int    `json:"from"`
	Query  any    `json:"query"`
	Sort   []any  `json:"sort"`
}

type jsSearchResponse struct {
	ReturnCount int            `json:"return_count"`
	MatchCount  int            `json:"match_count"`
	Deployments []jsSearchItem `json:"deployments"`
	Cursor      string         `json:"cursor,omitempty"`
}

type jsSearchItem struct {
	ID        string             `json:"id"`
	Name      string             `json:"name"`
	Healthy   bool               `json:"healthy"`
	Resources map[string][]jsRes `json:"resources"`
	Metadata  jsDepMetadata      `json:"metadata"`
}

type jsDepMetadata struct {
	LastModified string  `json:"last_modified,omitempty"` // ECE only: the ESS spec has no such field
	Tags         []jsTag `json:"tags"`
}

type jsTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type jsRes struct {
	RefID   string `json:"ref_id"`
	ESRefID string `json:"elasticsearch_cluster_ref_id,omitempty"`
	ID      string `json:"id"`
	Region  string `json:"region"`
	Info    any    `json:"info"`
}

// jsClusterInfo has the fields every kind's info shares.
type jsClusterInfo struct {
	DeploymentID  string        `json:"deployment_id"`
	Healthy       bool          `json:"healthy"`
	Status        string        `json:"status"`
	PlanInfo      jsPlansInfo   `json:"plan_info"`
	Metadata      jsClusterMeta `json:"metadata"`
	Topology      jsTopology    `json:"topology"`
	ExternalLinks []any         `json:"external_links"`
	Region        string        `json:"region"`
}

type jsESInfo struct {
	ClusterID   string `json:"cluster_id"`
	ClusterName string `json:"cluster_name"`
	jsClusterInfo
	Elasticsearch jsESHealth      `json:"elasticsearch"`
	Snapshots     jsSnapshots     `json:"snapshots"`
	SystemAlerts  []jsSystemAlert `json:"system_alerts"`
	AssocKibana   []any           `json:"associated_kibana_clusters"`
	AssocAPM      []any           `json:"associated_apm_clusters"`
	AssocAppSrch  []any           `json:"associated_appsearch_clusters"`
	AssocEntSrch  []any           `json:"associated_enterprise_search_clusters"`
}

// jsKibanaInfo is KibanaClusterInfo (cluster_id, cluster_name).
type jsKibanaInfo struct {
	ClusterID   string     `json:"cluster_id"`
	ClusterName string     `json:"cluster_name"`
	ES          jsTargetES `json:"elasticsearch_cluster"`
	jsClusterInfo
}

// jsAppInfo is ApmInfo, IntegrationsServerInfo, AppSearchInfo and
// EnterpriseSearchInfo (id, name).
type jsAppInfo struct {
	ID   string     `json:"id"`
	Name string     `json:"name"`
	ES   jsTargetES `json:"elasticsearch_cluster"`
	jsClusterInfo
}

type jsTargetES struct {
	ElasticsearchID string `json:"elasticsearch_id"`
}

type jsClusterMeta struct {
	Version      int    `json:"version"`
	LastModified string `json:"last_modified"`
}

type jsPlansInfo struct {
	Healthy bool         `json:"healthy"`
	Current *jsPlanInfo  `json:"current,omitempty"`
	Pending *jsPlanInfo  `json:"pending,omitempty"`
	History []jsPlanInfo `json:"history"`
}

type jsPlanInfo struct {
	PlanAttemptID    string         `json:"plan_attempt_id"`
	Healthy          bool           `json:"healthy"`
	AttemptStartTime string         `json:"attempt_start_time"`
	AttemptEndTime   string         `json:"attempt_end_time,omitempty"`
	PlanEndTime      string         `json:"plan_end_time,omitempty"`
	Plan             map[string]any `json:"plan"`
	PlanAttemptLog   []any          `json:"plan_attempt_log"`
	Warnings         []any          `json:"warnings"`
	Error            *jsPlanError   `json:"error,omitempty"`
}

type jsPlanError struct {
	Timestamp   string         `json:"timestamp"`
	Message     string         `json:"message"`
	Details     map[string]any `json:"details"`
	FailureType string         `json:"failure_type"`
}

type jsTopology struct {
	Healthy   bool         `json:"healthy"`
	Instances []jsInstance `json:"instances"`
}

type jsInstance struct {
	InstanceName     string   `json:"instance_name"`
	ServiceVersion   string   `json:"service_version"`
	Healthy          bool     `json:"healthy"`
	ContainerStarted bool     `json:"container_started"`
	ServiceRunning   bool     `json:"service_running"`
	MaintenanceMode  bool     `json:"maintenance_mode"`
	Zone             string   `json:"zone"`
	AllocatorID      string   `json:"allocator_id"`
	Memory           jsMemory `json:"memory"`
	Disk             *jsDisk  `json:"disk,omitempty"`
	ServiceRoles     []string `json:"service_roles,omitempty"`
}

type jsMemory struct {
	InstanceCapacity     int  `json:"instance_capacity"`
	MemoryPressure       *int `json:"memory_pressure,omitempty"`
	NativeMemoryPressure *int `json:"native_memory_pressure,omitempty"`
}

type jsDisk struct {
	DiskSpaceAvailable int     `json:"disk_space_available"`
	DiskSpaceUsed      int     `json:"disk_space_used"`
	StorageMultiplier  float64 `json:"storage_multiplier"`
}

type jsESHealth struct {
	Healthy        bool             `json:"healthy"`
	ShardInfo      jsShardInfo      `json:"shard_info"`
	ShardsStatus   jsShardsStatus   `json:"shards_status"`
	MasterInfo     jsMasterInfo     `json:"master_info"`
	BlockingIssues jsBlockingIssues `json:"blocking_issues"`
}

type jsShardInfo struct {
	Healthy             bool  `json:"healthy"`
	AvailableShards     []any `json:"available_shards"`
	UnavailableShards   []any `json:"unavailable_shards"`
	UnavailableReplicas []any `json:"unavailable_replicas"`
}

type jsShardsStatus struct {
	Status string `json:"status"`
}

type jsMasterInfo struct {
	Healthy               bool       `json:"healthy"`
	Masters               []jsMaster `json:"masters"`
	InstancesWithNoMaster []string   `json:"instances_with_no_master"`
}

type jsMaster struct {
	MasterNodeID       string   `json:"master_node_id"`
	MasterInstanceName string   `json:"master_instance_name"`
	Instances          []string `json:"instances"`
}

type jsBlockingIssues struct {
	Healthy      bool              `json:"healthy"`
	ClusterLevel []jsBlockingIssue `json:"cluster_level"`
	IndexLevel   []jsBlockingIssue `json:"index_level"`
}

type jsBlockingIssue struct {
	Description string   `json:"description"`
	Instances   []string `json:"instances"`
}

type jsSnapshots struct {
	Healthy                 bool   `json:"healthy"`
	Count                   int    `json:"count"`
	LatestSuccessful        bool   `json:"latest_successful"`
	LatestStatus            string `json:"latest_status"`
	ScheduledTime           string `json:"scheduled_time"`
	LatestEndTime           string `json:"latest_end_time"`
	LatestSuccessfulEndTime string `json:"latest_successful_end_time"`
	RecentSuccess           bool   `json:"recent_success"`
}

type jsSystemAlert struct {
	Timestamp    string `json:"timestamp"`
	InstanceName string `json:"instance_name"`
	AlertType    string `json:"alert_type"`
	URL          string `json:"url,omitempty"`
	ExitCode     *int   `json:"exit_code,omitempty"`
}

// health is the simulated state of one deployment.
type health struct {
	red, yellow, pending, planFailed, oldSnapshot, failedSnapshot, memory, disk, oom, deletedVersion, noTags bool
}

func healthOf(idx int) health {
	return health{
		red: idx%10 == 3, yellow: idx%10 == 5, pending: idx%7 == 2, planFailed: idx%9 == 4,
		oldSnapshot: idx%8 == 6, failedSnapshot: idx%11 == 7, memory: idx%6 == 1, disk: idx%13 == 9,
		oom: idx%5 == 2, deletedVersion: idx%12 == 8, noTags: idx%5 == 4,
	}
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (s *Server) searchDeployments(r *http.Request, _ map[string]string) reply {
	var req jsSearchRequest
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return errReply(http.StatusBadRequest, "root.invalid_json_request", "The request body could not be read")
	}
	if len(strings.TrimSpace(string(b))) > 0 {
		if err := json.Unmarshal(b, &req); err != nil {
			return errReply(http.StatusBadRequest, "root.invalid_json_request", "The request body is not a valid SearchRequest: "+err.Error())
		}
	}
	size := defaultSearchSize
	if req.Size != nil {
		size = min(max(*req.Size, 0), maxSearchSize)
	}
	after := ""
	if req.Cursor != "" {
		// "When set, all other fields are ignored": the cursor carries
		// the size of the search it continues.
		raw, err := base64.RawURLEncoding.DecodeString(req.Cursor)
		sz, id, ok := strings.Cut(strings.TrimPrefix(string(raw), cursorPrefix), ":")
		n, nerr := strconv.Atoi(sz)
		if err != nil || !strings.HasPrefix(string(raw), cursorPrefix) || !ok || nerr != nil || n < 0 || n > maxSearchSize {
			return errReply(http.StatusBadRequest, "root.invalid_json_request", "The cursor is not valid", "cursor")
		}
		size, after = n, id
	}
	deps := slices.Clone(s.live())
	slices.SortFunc(deps, func(a, b *deployment) int { return cmp.Compare(a.id, b.id) })
	start := 0
	if after != "" {
		start, _ = slices.BinarySearchFunc(deps, after, func(d *deployment, id string) int {
			if d.id <= id {
				return -1
			}
			return 1
		})
	} else if req.From > 0 {
		start = min(req.From, len(deps))
	}
	page := deps[start:min(start+size, len(deps))]
	now := s.opts.Now().UTC()
	out := jsSearchResponse{ReturnCount: len(page), MatchCount: len(deps), Deployments: make([]jsSearchItem, 0, len(page))}
	s.mu.Lock() // resource versions change on a real upgrade
	for _, d := range page {
		out.Deployments = append(out.Deployments, s.searchItem(d, now))
	}
	s.mu.Unlock()
	if len(page) > 0 {
		out.Cursor = base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.Itoa(size) + ":" + page[len(page)-1].id))
	}
	return okReply(http.StatusOK, out)
}

func (s *Server) searchItem(d *deployment, now time.Time) jsSearchItem {
	h := healthOf(d.index)
	item := jsSearchItem{ID: d.id, Name: d.name, Healthy: true, Resources: map[string][]jsRes{},
		Metadata: jsDepMetadata{Tags: []jsTag{}}}
	if s.opts.Mode == ModeECE {
		item.Metadata.LastModified = rfc(d.created.Add(time.Hour))
	}
	for _, k := range []string{"elasticsearch", "kibana", "apm", "appsearch", "enterprise_search", "integrations_server"} {
		item.Resources[k] = []jsRes{}
	}
	if !h.noTags {
		item.Metadata.Tags = []jsTag{
			{Key: "team", Value: nameWords[d.index%len(nameWords)]},
			{Key: "env", Value: envWords[(d.index/len(nameWords))%len(envWords)]},
			{Key: "cost-center", Value: fmt.Sprintf("cc-%02d", d.index%7)},
		}
	}
	for _, r := range d.resources {
		version := r.version
		if r.kind == "elasticsearch" || version == "" {
			version = currentVersion
		}
		if h.deletedVersion {
			version = deletedVersion
		}
		info, healthy := s.resourceInfo(d, r, h, version, now)
		item.Healthy = item.Healthy && healthy
		item.Resources[r.kind] = append(item.Resources[r.kind], jsRes{RefID: r.refID, ESRefID: r.esRefID, ID: r.id, Region: r.region, Info: info})
	}
	return item
}

// resourceInfo builds the info of one resource and says whether it is healthy.
func (s *Server) resourceInfo(d *deployment, r *resource, h health, version string, now time.Time) (any, bool) {
	es := r.kind == "elasticsearch"
	healthy := (!es || !h.red) && !h.planFailed
	status := "started"
	if h.pending && es {
		status = "reconfiguring"
	}
	planAt := d.created.Add(2 * time.Hour)
	plan := func(v string, ok bool, start, end time.Time) jsPlanInfo {
		cfg := map[string]any{r.kind: map[string]any{"version": v}}
		if es {
			cfg["cluster_topology"] = []any{}
		}
		p := jsPlanInfo{PlanAttemptID: fmt.Sprintf("sim-attempt-%s-%d", r.refID, start.Unix()), Healthy: ok,
			AttemptStartTime: rfc(start), Plan: cfg, PlanAttemptLog: []any{}, Warnings: []any{}}
		if !end.IsZero() {
			p.AttemptEndTime, p.PlanEndTime = rfc(end), rfc(end)
		}
		if !ok {
			p.Error = &jsPlanError{Timestamp: rfc(end), Message: "Plan change failed: instances did not become healthy in time",
				Details: map[string]any{}, FailureType: "ClusterFailure:NodesUnhealthy"}
		}
		return p
	}
	cur := plan(version, true, planAt, planAt.Add(4*time.Minute))
	plans := jsPlansInfo{Healthy: !h.planFailed, Current: &cur, History: []jsPlanInfo{cur}}
	if h.planFailed {
		start := now.Add(-90 * time.Minute).Truncate(time.Minute)
		plans.History = append(plans.History, plan(version, false, start, start.Add(12*time.Minute)))
	}
	if h.pending && es {
		p := plan(version, true, now.Add(-2*time.Hour).Truncate(time.Minute), time.Time{})
		plans.Pending = &p
	}

	var insts []jsInstance
	zones := []string{r.region + "-a", r.region + "-b", r.region + "-c"}
	capacity := 1024
	if es {
		capacity = 4096 << (d.index % 2)
	}
	for i := range max(r.instances, 1) {
		in := jsInstance{InstanceName: fmt.Sprintf("instance-%010d", i), ServiceVersion: version, Healthy: true, ContainerStarted: true,
			ServiceRunning: true, Zone: zones[i%len(zones)], AllocatorID: fmt.Sprintf("sim-allocator-%s-%02d", r.region, (d.index+i)%16),
			Memory: jsMemory{InstanceCapacity: capacity}}
		if es {
			mp, nmp := 20+(d.index*7+i*11)%45, 45+(d.index*5+i*3)%25
			if h.memory {
				mp, nmp = 82+9*(i%2), 88+5*(i%2)
			}
			in.Memory.MemoryPressure, in.Memory.NativeMemoryPressure = &mp, &nmp
			total := capacity * 30
			used := total * (10 + (d.index*13+i*7)%50) / 100
			if h.disk && i == 0 {
				used = total * 95 / 100
			}
			in.Disk = &jsDisk{DiskSpaceAvailable: total, DiskSpaceUsed: used, StorageMultiplier: 30}
			in.ServiceRoles = []string{"elasticsearch"}
		}
		if es && h.red && i == len(insts) && i == max(r.instances, 1)-1 {
			in.Healthy, in.ServiceRunning = false, false
		}
		insts = append(insts, in)
	}
	topoHealthy := true
	for _, in := range insts {
		topoHealthy = topoHealthy && in.Healthy
	}
	base := jsClusterInfo{DeploymentID: d.id, Healthy: healthy, Status: status, PlanInfo: plans,
		Metadata: jsClusterMeta{Version: 3 + d.index%40, LastModified: rfc(planAt.Add(4 * time.Minute))},
		Topology: jsTopology{Healthy: topoHealthy, Instances: insts}, ExternalLinks: []any{}, Region: r.region}
	if !es {
		target := jsTargetES{ElasticsearchID: esID(d)}
		if r.kind == "kibana" {
			return jsKibanaInfo{ClusterID: r.id, ClusterName: d.name, ES: target, jsClusterInfo: base}, healthy
		}
		return jsAppInfo{ID: r.id, Name: d.name, ES: target, jsClusterInfo: base}, healthy
	}

	names := make([]string, len(insts))
	for i, in := range insts {
		names[i] = in.InstanceName
	}
	shards := "green"
	switch {
	case h.red:
		shards = "red"
	case h.yellow:
		shards = "yellow"
	}
	eh := jsESHealth{Healthy: shards == "green",
		ShardInfo:    jsShardInfo{Healthy: shards != "red", AvailableShards: []any{}, UnavailableShards: []any{}, UnavailableReplicas: []any{}},
		ShardsStatus: jsShardsStatus{Status: shards},
		MasterInfo: jsMasterInfo{Healthy: true, Masters: []jsMaster{{MasterNodeID: "sim-node-" + d.id[:8], MasterInstanceName: names[0], Instances: names}},
			InstancesWithNoMaster: []string{}},
		BlockingIssues: jsBlockingIssues{Healthy: true, ClusterLevel: []jsBlockingIssue{}, IndexLevel: []jsBlockingIssue{}},
	}
	if h.red {
		last := names[len(names)-1]
		eh.MasterInfo.Healthy = false
		eh.MasterInfo.InstancesWithNoMaster = []string{last}
		eh.MasterInfo.Masters[0].Instances = names[:len(names)-1]
		eh.BlockingIssues = jsBlockingIssues{Healthy: false, IndexLevel: []jsBlockingIssue{},
			ClusterLevel: []jsBlockingIssue{{Description: "The cluster has unassigned primary shards", Instances: []string{last}}}}
	}
	// Snapshots every 30 minutes; the latest ended 5 minutes after the slot.
	slot := now.Truncate(30 * time.Minute)
	if now.Sub(slot) < 5*time.Minute {
		slot = slot.Add(-30 * time.Minute)
	}
	latest := slot.Add(5 * time.Minute)
	snap := jsSnapshots{Healthy: true, Count: 48 + d.index%50, LatestSuccessful: true, LatestStatus: "SUCCESS",
		ScheduledTime: rfc(slot.Add(30 * time.Minute)), LatestEndTime: rfc(latest), LatestSuccessfulEndTime: rfc(latest), RecentSuccess: true}
	switch {
	case h.oldSnapshot:
		old := latest.Add(-30 * time.Hour)
		snap = jsSnapshots{Healthy: false, Count: 12, LatestSuccessful: false, LatestStatus: "FAILED", ScheduledTime: snap.ScheduledTime,
			LatestEndTime: rfc(latest), LatestSuccessfulEndTime: rfc(old), RecentSuccess: false}
	case h.failedSnapshot:
		snap.LatestSuccessful, snap.LatestStatus, snap.LatestSuccessfulEndTime = false, "FAILED", rfc(latest.Add(-30*time.Minute))
	}
	alerts := []jsSystemAlert{}
	if h.oom {
		code := 137
		alerts = append(alerts,
			jsSystemAlert{Timestamp: rfc(now.Add(-20 * time.Minute).Truncate(time.Minute)), InstanceName: names[0], AlertType: "automatic_restart", ExitCode: &code},
			jsSystemAlert{Timestamp: rfc(now.Add(-50 * time.Minute).Truncate(time.Minute)), InstanceName: names[0], AlertType: "automatic_restart", ExitCode: &code},
			jsSystemAlert{Timestamp: rfc(now.Add(-51 * time.Minute).Truncate(time.Minute)), InstanceName: names[0], AlertType: "heap_dump",
				URL: "https://sim.example.invalid/heap-dumps/" + d.id[:8]},
		)
	}
	return jsESInfo{ClusterID: r.id, ClusterName: d.name, jsClusterInfo: base, Elasticsearch: eh, Snapshots: snap, SystemAlerts: alerts,
		AssocKibana: []any{}, AssocAPM: []any{}, AssocAppSrch: []any{}, AssocEntSrch: []any{}}, healthy
}

func esID(d *deployment) string {
	for _, r := range d.resources {
		if r.kind == "elasticsearch" {
			return r.id
		}
	}
	return ""
}

// ---- stack versions ----

type jsStackVersion struct {
	Version           string         `json:"version"`
	Template          map[string]any `json:"template"`
	Elasticsearch     map[string]any `json:"elasticsearch"`
	Kibana            map[string]any `json:"kibana"`
	Deleted           bool           `json:"deleted"`
	UpgradableTo      []string       `json:"upgradable_to"`
	MinUpgradableFrom string         `json:"min_upgradable_from"`
	Whitelisted       *bool          `json:"whitelisted,omitempty"`
	Accessible        *bool          `json:"accessible,omitempty"`
}

// stackVersions lists targetVersion, currentVersion, deletedVersion
// (deleted; in ESS no longer accessible) and 7.17.24 (in ESS no longer
// whitelisted). show_deleted=true is needed to see deletedVersion. ECE
// sends neither whitelisted nor accessible, as the spec says.
func (s *Server) stackVersions(r *http.Request, _ map[string]string) reply {
	showDeleted := r.URL.Query().Get("show_deleted") == "true"
	type v struct {
		version, minFrom          string
		deleted, whitelisted, acc bool
		upTo                      []string
	}
	all := []v{
		{targetVersion, "7.17.0", false, true, true, []string{}},
		{currentVersion, "7.17.0", false, true, true, []string{targetVersion}},
		{deletedVersion, "7.17.0", true, true, false, []string{currentVersion, targetVersion}},
		{"7.17.24", "6.8.0", false, false, true, []string{currentVersion, targetVersion}},
	}
	out := []jsStackVersion{}
	for _, x := range all {
		if x.deleted && !showDeleted {
			continue
		}
		j := jsStackVersion{Version: x.version, Template: map[string]any{"template_version": "sim-7"},
			Elasticsearch: map[string]any{"blacklist": []string{}, "default_plugins": []string{}, "plugins": []string{},
				"docker_image": "docker.elastic.co/cloud-release/elasticsearch-cloud-ess:" + x.version},
			Kibana:  map[string]any{"blacklist": []string{}, "docker_image": "docker.elastic.co/cloud-release/kibana-cloud:" + x.version},
			Deleted: x.deleted, UpgradableTo: x.upTo, MinUpgradableFrom: x.minFrom}
		if s.opts.Mode == ModeESS {
			wl, acc := x.whitelisted, x.acc
			j.Whitelisted, j.Accessible = &wl, &acc
		}
		out = append(out, j)
	}
	return okReply(http.StatusOK, map[string]any{"stacks": out})
}
