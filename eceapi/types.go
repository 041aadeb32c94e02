package eceapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// The structs below follow the Swagger definitions of the same name in the
// official specification (apidocs-user.json for ESS, apidocs.json for ECE).
// Fields the exporter has no use for are left out; unknown fields are ignored
// when decoding. Every number is a float64, even where the spec says integer,
// because the live API has been seen sending fractional values there
// (DtsQuantity.value, ItemCosts.hours) and one such value must not fail a
// whole response. Enums are plain strings and never validated: new values
// appear over time.
//
// Fields that carry credentials (DeploymentResource.credentials and
// secret_token, ApiKeyResponse.key) are deliberately absent: what is never
// decoded can never leak.

// DeploymentsListResponse is the answer of GET /deployments.
type DeploymentsListResponse struct {
	Deployments []DeploymentsListingData `json:"deployments"`
}

// DeploymentsListingData is one deployment in a DeploymentsListResponse.
type DeploymentsListingData struct {
	ID        string               `json:"id"`
	Name      string               `json:"name"`
	Resources []DeploymentResource `json:"resources"`
}

// DeploymentResource is one resource (Elasticsearch, Kibana, APM...) of a
// deployment in the list.
type DeploymentResource struct {
	RefID                     string `json:"ref_id"`
	ElasticsearchClusterRefID string `json:"elasticsearch_cluster_ref_id,omitempty"`
	ID                        string `json:"id"`
	Kind                      string `json:"kind"`
	Region                    string `json:"region"`
	CloudID                   string `json:"cloud_id,omitempty"`
}

// AccountResponse is the answer of GET /account.
type AccountResponse struct {
	ID    string                `json:"id"`
	Trust *AccountTrustSettings `json:"trust,omitempty"`
}

// AccountTrustSettings is the trust part of an AccountResponse.
type AccountTrustSettings struct {
	TrustAll bool `json:"trust_all"`
}

// OrganizationList is the answer of GET /organizations.
type OrganizationList struct {
	Organizations []Organization `json:"organizations"`
	NextPage      string         `json:"next_page,omitempty"`
}

// Organization is one organization in an OrganizationList.
type Organization struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// CostsOverview is the answer of GET /billing/costs/{organization_id}.
type CostsOverview struct {
	Costs      Costs    `json:"costs"`
	Trials     float64  `json:"trials"`
	HourlyRate float64  `json:"hourly_rate"`
	Balance    *Balance `json:"balance,omitempty"`
}

// Costs is a total with its breakdown by billing dimension.
type Costs struct {
	Total      float64     `json:"total"`
	Dimensions []Dimension `json:"dimensions"`
}

// Dimension is the cost of one billing dimension (capacity, data_in, ...).
type Dimension struct {
	Type string  `json:"type"`
	Cost float64 `json:"cost"`
}

// Balance is the prepaid balance of an organization.
type Balance struct {
	Available float64              `json:"available"`
	Remaining float64              `json:"remaining"`
	LineItems []SimplifiedLineItem `json:"line_items"`
}

// SimplifiedLineItem is one order line item of a Balance.
type SimplifiedLineItem struct {
	ID          string    `json:"id"`
	ECUQuantity float64   `json:"ecu_quantity"`
	ECUBalance  float64   `json:"ecu_balance"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
}

// DeploymentsCosts is the answer of GET /billing/costs/{organization_id}/deployments.
type DeploymentsCosts struct {
	TotalCost   float64           `json:"total_cost"`
	Deployments []DeploymentCosts `json:"deployments"`
}

// DeploymentCosts is the cost of one deployment in DeploymentsCosts.
type DeploymentCosts struct {
	DeploymentID   string  `json:"deployment_id"`
	DeploymentName string  `json:"deployment_name"`
	Costs          Costs   `json:"costs"`
	HourlyRate     float64 `json:"hourly_rate"`
	Period         *Period `json:"period,omitempty"`
}

// Period is a time range.
type Period struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// ItemsCosts is the answer of the two itemized-costs operations.
type ItemsCosts struct {
	Costs                  Costs               `json:"costs"`
	DataTransferAndStorage []DtsDimensionCosts `json:"data_transfer_and_storage"`
	Resources              []ItemCosts         `json:"resources"`
}

// DtsDimensionCosts is the cost of one data transfer and storage SKU.
type DtsDimensionCosts struct {
	Cost     float64     `json:"cost"`
	Name     string      `json:"name"`
	Quantity DtsQuantity `json:"quantity"`
	Rate     DtsRate     `json:"rate"`
	SKU      string      `json:"sku"`
	Type     string      `json:"type"`
}

// DtsQuantity is a DTS usage quantity. The spec types Value as int64; it is
// decoded as float64 because the live API sends fractions.
type DtsQuantity struct {
	Value          float64 `json:"value"`
	FormattedValue string  `json:"formatted_value"`
}

// DtsRate is the cost per unit of a DTS SKU.
type DtsRate struct {
	Value          float64 `json:"value"`
	FormattedValue string  `json:"formatted_value"`
}

// ItemCosts is the cost of one billed resource (an instance configuration SKU).
type ItemCosts struct {
	Hours         float64 `json:"hours"`
	InstanceCount float64 `json:"instance_count"`
	Period        Period  `json:"period"`
	Kind          string  `json:"kind"`
	Price         float64 `json:"price"`
	PricePerHour  float64 `json:"price_per_hour"`
	Name          string  `json:"name"`
	SKU           string  `json:"sku"`
}

// ChartItems is the answer of the two billing chart operations.
type ChartItems struct {
	Data []ChartItem `json:"data"`
}

// ChartItem is one bucket of a chart.
type ChartItem struct {
	// Timestamp is the bucket position normalised to a time: the API does not
	// document the unit of the raw value, so both seconds and milliseconds
	// since the Unix epoch are accepted (see normalizeTimestamp).
	Timestamp time.Time `json:"-"`
	// RawTimestamp is the value as sent by the API.
	RawTimestamp int64            `json:"timestamp"`
	Values       []ChartItemValue `json:"values"`
}

// ChartItemValue is one series value in a chart bucket.
type ChartItemValue struct {
	ID    string  `json:"id"`
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

// millisThreshold separates seconds from milliseconds: 1e11 seconds is the
// year 5138, 1e11 milliseconds is March 1973. Any chart the API can return
// today falls clearly on one side.
const millisThreshold = 1e11

// normalizeTimestamp turns an epoch value in seconds or milliseconds into a
// UTC time.
func normalizeTimestamp(v int64) time.Time {
	if v >= millisThreshold || v <= -millisThreshold {
		return time.UnixMilli(v).UTC()
	}
	return time.Unix(v, 0).UTC()
}

// UnmarshalJSON decodes a ChartItem, accepting the timestamp as an integer
// or a float (1.7e12) in seconds or milliseconds.
func (c *ChartItem) UnmarshalJSON(b []byte) error {
	var raw struct {
		Timestamp json.Number      `json:"timestamp"`
		Values    []ChartItemValue `json:"values"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return err
	}
	ts, err := parseEpoch(raw.Timestamp)
	if err != nil {
		return fmt.Errorf("chart item timestamp: %w", err)
	}
	c.RawTimestamp = ts
	c.Timestamp = normalizeTimestamp(ts)
	c.Values = raw.Values
	return nil
}

func parseEpoch(n json.Number) (int64, error) {
	if n == "" {
		return 0, fmt.Errorf("missing")
	}
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return i, nil
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 9e15 {
		return 0, fmt.Errorf("%q is not a usable epoch value", string(n))
	}
	return int64(f), nil
}

// RemoteResources is the answer of GET
// /deployments/{deployment_id}/elasticsearch/{ref_id}/remote-clusters.
type RemoteResources struct {
	Resources []RemoteResourceRef `json:"resources"`
}

// RemoteResourceRef is one remote cluster of an Elasticsearch resource.
type RemoteResourceRef struct {
	DeploymentID       string `json:"deployment_id"`
	ElasticsearchRefID string `json:"elasticsearch_ref_id"`
	Alias              string `json:"alias"`
	// SkipUnavailable is nil when the API leaves it out (the spec default is false).
	SkipUnavailable *bool `json:"skip_unavailable,omitempty"`
	// Info is nil when the API does not report the live state of the remote.
	Info *RemoteResourceInfo `json:"info,omitempty"`
}

// RemoteResourceInfo is the live state of a remote cluster.
type RemoteResourceInfo struct {
	Healthy     bool `json:"healthy"`
	Connected   bool `json:"connected"`
	Compatible  bool `json:"compatible"`
	Trusted     bool `json:"trusted"`
	TrustedBack bool `json:"trusted_back"`
}

// APIKeysResponse is the answer of the API key listing operations.
type APIKeysResponse struct {
	Keys []APIKey `json:"keys"`
}

// APIKey is the metadata of one API key (ApiKeyResponse in the spec). The
// spec's `key` field, the key itself, is deliberately not decoded.
type APIKey struct {
	ID             string     `json:"id"`
	UserID         string     `json:"user_id,omitempty"`
	OrganizationID string     `json:"organization_id,omitempty"`
	Description    string     `json:"description"`
	CreationDate   time.Time  `json:"creation_date"`
	ExpirationDate *time.Time `json:"expiration_date,omitempty"`
}

// DeploymentResourceUpgradeResponse is the answer of an upgrade dry run.
// The API may answer 202 with an empty body or {}: both fields are then
// empty (see VersionReported).
type DeploymentResourceUpgradeResponse struct {
	ResourceID   string `json:"resource_id"`
	StackVersion string `json:"stack_version"`
}

// VersionReported reports whether the dry run named a stack version.
func (r *DeploymentResourceUpgradeResponse) VersionReported() bool {
	return r != nil && r.StackVersion != ""
}

// loginRequest is the body of POST /users/auth/_login (LoginRequest).
type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// tokenResponse is TokenResponse, the answer of _login and _refresh.
type tokenResponse struct {
	Token                 string    `json:"token"`
	SessionExpirationTime time.Time `json:"session_expiration_time"`
}

// errorReply is BasicFailedReply.
type errorReply struct {
	Errors []ErrorElement `json:"errors"`
}

// ErrorElement is one BasicFailedReplyElement of an error answer.
type ErrorElement struct {
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Fields  []string `json:"fields,omitempty"`
}
