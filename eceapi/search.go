package eceapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// SearchRequest is the body of POST /deployments/_search (the spec's
// SearchRequest, the subset the exporter sends). A search reads and never
// changes anything.
type SearchRequest struct {
	// Size is the largest number of deployments in one answer.
	Size int `json:"size,omitempty"`
	// Cursor is the previous answer's cursor; when set, the API ignores
	// every other field.
	Cursor string `json:"cursor,omitempty"`
	// Sort is a list of Elasticsearch sort objects. The spec recommends a
	// static unique field (the deployment id) for paged searches, so that a
	// deployment changed between two pages is neither lost nor repeated.
	Sort []map[string]any `json:"sort,omitempty"`
}

// SortByID is the sort a paged walk over every deployment should use.
var SortByID = []map[string]any{{"id": map[string]any{"order": "asc"}}}

// Search runs one page of a deployment search and returns each deployment
// with its health, plans, topology, snapshots and tags. Without a body
// every deployment matches. A search is read-only, so it is retried like a
// GET.
//
// POST /deployments/_search (search-deployments)
func (s *DeploymentsService) Search(ctx context.Context, body *SearchRequest) (*DeploymentsSearchResponse, *Response, error) {
	if body == nil {
		body = &SearchRequest{}
	}
	req, err := s.client.newRequest(ctx, "search-deployments", http.MethodPost, "deployments/_search", nil, body)
	if err != nil {
		return nil, nil, fmt.Errorf("search deployments: %w", err)
	}
	var v DeploymentsSearchResponse
	resp, err := s.client.do(req, &v, true)
	if err != nil {
		return nil, resp, fmt.Errorf("search deployments: %w", err)
	}
	return &v, resp, nil
}

// StackService covers the Elastic Stack version operations.
type StackService service

// Versions returns the stack versions the platform offers; showDeleted
// also returns the versions marked for deletion.
//
// GET /stack/versions (get-version-stacks)
func (s *StackService) Versions(ctx context.Context, showDeleted bool) (*StackVersionConfigs, *Response, error) {
	var q url.Values
	if showDeleted {
		q = url.Values{"show_deleted": []string{"true"}}
	}
	var v StackVersionConfigs
	resp, err := s.client.get(ctx, "get-version-stacks", "stack/versions", q, &v)
	if err != nil {
		return nil, resp, fmt.Errorf("list stack versions: %w", err)
	}
	return &v, resp, nil
}

// The structs below follow the spec definitions of the same names (see
// types.go for the conventions: every number a float64, enums plain
// strings). Pointers mark objects the API may leave out or send as null;
// arrays sent as null decode as nil.

// DeploymentsSearchResponse is one page of POST /deployments/_search.
type DeploymentsSearchResponse struct {
	ReturnCount float64                    `json:"return_count"`
	MatchCount  float64                    `json:"match_count"`
	Deployments []DeploymentSearchResponse `json:"deployments"`
	// Cursor asks for the next page; empty on the last one.
	Cursor string `json:"cursor,omitempty"`
}

// DeploymentSearchResponse is one deployment of a search answer.
type DeploymentSearchResponse struct {
	ID        string              `json:"id"`
	Name      string              `json:"name"`
	Healthy   bool                `json:"healthy"`
	Resources DeploymentResources `json:"resources"`
	Metadata  *DeploymentMetadata `json:"metadata,omitempty"`
}

// DeploymentMetadata is the metadata of a deployment.
type DeploymentMetadata struct {
	Tags []MetadataItem `json:"tags"`
}

// MetadataItem is one user tag.
type MetadataItem struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// DeploymentResources holds the resources of a deployment by kind. Every
// kind other than Elasticsearch has the same shape here.
type DeploymentResources struct {
	Elasticsearch      []ElasticsearchResourceInfo `json:"elasticsearch"`
	Kibana             []StatelessResourceInfo     `json:"kibana"`
	APM                []StatelessResourceInfo     `json:"apm"`
	AppSearch          []StatelessResourceInfo     `json:"appsearch"`
	EnterpriseSearch   []StatelessResourceInfo     `json:"enterprise_search"`
	IntegrationsServer []StatelessResourceInfo     `json:"integrations_server"`
}

// ElasticsearchResourceInfo is one Elasticsearch resource of a deployment.
type ElasticsearchResourceInfo struct {
	RefID  string                   `json:"ref_id"`
	ID     string                   `json:"id"`
	Region string                   `json:"region"`
	Info   ElasticsearchClusterInfo `json:"info"`
}

// ElasticsearchClusterInfo is the state of an Elasticsearch resource.
type ElasticsearchClusterInfo struct {
	ResourceState
	Elasticsearch *ElasticsearchInfo   `json:"elasticsearch,omitempty"`
	Snapshots     *SnapshotStatusInfo  `json:"snapshots,omitempty"`
	SystemAlerts  []ClusterSystemAlert `json:"system_alerts"`
}

// StatelessResourceInfo is one Kibana, APM, App Search, Enterprise Search
// or Integrations Server resource (KibanaResourceInfo, ApmResourceInfo...).
type StatelessResourceInfo struct {
	RefID                     string        `json:"ref_id"`
	ElasticsearchClusterRefID string        `json:"elasticsearch_cluster_ref_id"`
	ID                        string        `json:"id"`
	Region                    string        `json:"region"`
	Info                      ResourceState `json:"info"`
}

// ResourceState is what every kind's info (ElasticsearchClusterInfo,
// KibanaClusterInfo, ApmInfo...) has in common.
type ResourceState struct {
	Healthy  bool                 `json:"healthy"`
	Status   string               `json:"status"`
	PlanInfo PlansInfo            `json:"plan_info"`
	Topology *ClusterTopologyInfo `json:"topology,omitempty"`
}

// PlansInfo is the plan state of a resource (ElasticsearchClusterPlansInfo
// and its per-kind twins).
type PlansInfo struct {
	// Healthy is false when the last plan attempt failed.
	Healthy bool       `json:"healthy"`
	Current *PlanInfo  `json:"current,omitempty"`
	Pending *PlanInfo  `json:"pending,omitempty"`
	History []PlanInfo `json:"history"`
}

// PlanInfo is one plan attempt (ElasticsearchClusterPlanInfo and twins).
// Only the version of the plan itself is decoded.
type PlanInfo struct {
	PlanAttemptID    string     `json:"plan_attempt_id,omitempty"`
	Healthy          bool       `json:"healthy"`
	AttemptStartTime *time.Time `json:"attempt_start_time,omitempty"`
	AttemptEndTime   *time.Time `json:"attempt_end_time,omitempty"`
	Plan             *Plan      `json:"plan,omitempty"`
}

// Plan is the part of a plan that says which stack version it runs: each
// kind's plan has its configuration under the kind's own key
// (ElasticsearchClusterPlan.elasticsearch.version,
// KibanaClusterPlan.kibana.version, ...).
type Plan struct {
	Elasticsearch      *PlanConfiguration `json:"elasticsearch,omitempty"`
	Kibana             *PlanConfiguration `json:"kibana,omitempty"`
	APM                *PlanConfiguration `json:"apm,omitempty"`
	AppSearch          *PlanConfiguration `json:"appsearch,omitempty"`
	EnterpriseSearch   *PlanConfiguration `json:"enterprise_search,omitempty"`
	IntegrationsServer *PlanConfiguration `json:"integrations_server,omitempty"`
}

// Version returns the stack version of the plan, whatever its kind.
func (p *Plan) Version() string {
	if p == nil {
		return ""
	}
	for _, c := range []*PlanConfiguration{p.Elasticsearch, p.Kibana, p.APM, p.AppSearch, p.EnterpriseSearch, p.IntegrationsServer} {
		if c != nil && c.Version != "" {
			return c.Version
		}
	}
	return ""
}

// PlanConfiguration is ElasticsearchConfiguration, KibanaConfiguration...
type PlanConfiguration struct {
	Version string `json:"version"`
}

// ClusterTopologyInfo is the running topology of a resource.
type ClusterTopologyInfo struct {
	Healthy   bool                  `json:"healthy"`
	Instances []ClusterInstanceInfo `json:"instances"`
}

// ClusterInstanceInfo is one running instance.
type ClusterInstanceInfo struct {
	InstanceName    string                     `json:"instance_name"`
	ServiceVersion  string                     `json:"service_version,omitempty"`
	Healthy         bool                       `json:"healthy"`
	ServiceRunning  bool                       `json:"service_running"`
	MaintenanceMode bool                       `json:"maintenance_mode"`
	Zone            string                     `json:"zone,omitempty"`
	Memory          *ClusterInstanceMemoryInfo `json:"memory,omitempty"`
	Disk            *ClusterInstanceDiskInfo   `json:"disk,omitempty"`
}

// ClusterInstanceMemoryInfo is the memory of an instance. Capacity is in
// MB; the pressures are percentages, nil when not known.
type ClusterInstanceMemoryInfo struct {
	InstanceCapacity     float64  `json:"instance_capacity"`
	MemoryPressure       *float64 `json:"memory_pressure,omitempty"`
	NativeMemoryPressure *float64 `json:"native_memory_pressure,omitempty"`
}

// ClusterInstanceDiskInfo is the disk of an instance, in MB. Available is
// nil when not known.
type ClusterInstanceDiskInfo struct {
	DiskSpaceAvailable *float64 `json:"disk_space_available,omitempty"`
	DiskSpaceUsed      float64  `json:"disk_space_used"`
}

// ElasticsearchInfo is the cluster-level state of Elasticsearch.
type ElasticsearchInfo struct {
	Healthy        bool                                `json:"healthy"`
	ShardsStatus   *ElasticsearchShardsStatus          `json:"shards_status,omitempty"`
	MasterInfo     *ElasticsearchMasterInfo            `json:"master_info,omitempty"`
	BlockingIssues *ElasticsearchClusterBlockingIssues `json:"blocking_issues,omitempty"`
}

// ElasticsearchShardsStatus is the cluster health colour: green, yellow or red.
type ElasticsearchShardsStatus struct {
	Status string `json:"status"`
}

// ElasticsearchMasterInfo says which masters the instances see.
type ElasticsearchMasterInfo struct {
	Healthy               bool                         `json:"healthy"`
	Masters               []ElasticsearchMasterElement `json:"masters"`
	InstancesWithNoMaster []string                     `json:"instances_with_no_master"`
}

// ElasticsearchMasterElement is one elected master and who follows it.
type ElasticsearchMasterElement struct {
	MasterNodeID string   `json:"master_node_id"`
	Instances    []string `json:"instances"`
}

// ElasticsearchClusterBlockingIssues lists what blocks the cluster.
type ElasticsearchClusterBlockingIssues struct {
	Healthy      bool                                       `json:"healthy"`
	ClusterLevel []ElasticsearchClusterBlockingIssueElement `json:"cluster_level"`
	IndexLevel   []ElasticsearchClusterBlockingIssueElement `json:"index_level"`
}

// ElasticsearchClusterBlockingIssueElement is one blocking issue.
type ElasticsearchClusterBlockingIssueElement struct {
	Description string `json:"description"`
}

// SnapshotStatusInfo is the snapshot state of an Elasticsearch resource.
type SnapshotStatusInfo struct {
	Healthy                 bool       `json:"healthy"`
	RecentSuccess           bool       `json:"recent_success"`
	Count                   float64    `json:"count"`
	LatestStatus            string     `json:"latest_status,omitempty"`
	LatestSuccessfulEndTime *time.Time `json:"latest_successful_end_time,omitempty"`
	LatestEndTime           *time.Time `json:"latest_end_time,omitempty"`
}

// ClusterSystemAlert is one system alert (an automatic restart after the
// instance ran out of memory, a heap dump...).
type ClusterSystemAlert struct {
	AlertType    string    `json:"alert_type"`
	InstanceName string    `json:"instance_name"`
	Timestamp    time.Time `json:"timestamp"`
}

// StackVersionConfigs is the answer of GET /stack/versions.
type StackVersionConfigs struct {
	Stacks []StackVersionConfig `json:"stacks"`
}

// StackVersionConfig is one stack version. Whitelisted and Accessible are
// sent by ESS only (nil on ECE).
type StackVersionConfig struct {
	Version           string   `json:"version"`
	Deleted           bool     `json:"deleted"`
	Whitelisted       *bool    `json:"whitelisted,omitempty"`
	Accessible        *bool    `json:"accessible,omitempty"`
	MinUpgradableFrom string   `json:"min_upgradable_from,omitempty"`
	UpgradableTo      []string `json:"upgradable_to"`
}
