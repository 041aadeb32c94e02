package eceapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// BillingV2Service covers the Cloud Billing API ("v2", billing-v2.yaml):
// the costs of every billed instance of an organization (hosted
// deployments, serverless projects, organization-level services) in one
// call. It is ESS only and served on its own host (WithBillingV2URL), with
// the same API key; the key needs the Billing admin role.
//
// Its answers differ from the v1 billing operations: from and to are
// required (and no earlier than EarliestCostsDate), numbers the spec types
// as integers are fractional (decoded as float64), lists may be null
// (decoded as empty), and its errors are {"error","message","detail"}
// JSON or plain text, not BasicFailedReply (both become an *APIError).
type BillingV2Service service

// ErrInvalidCostsWindow is returned before any request is sent when a
// billing v2 window lacks from or to, ends before it starts, or starts
// before EarliestCostsDate (which the API refuses with a 400).
var ErrInvalidCostsWindow = errors.New("invalid billing window")

// CostsWindow is the required time range of every billing v2 query. Both
// ends are sent in UTC, to the second (2025-07-10T00:00:00Z).
type CostsWindow struct {
	From, To time.Time
}

func (w CostsWindow) values() (url.Values, error) {
	switch {
	case w.From.IsZero() || w.To.IsZero():
		return nil, fmt.Errorf("%w: from and to are both required", ErrInvalidCostsWindow)
	case w.From.Before(EarliestCostsDate):
		return nil, fmt.Errorf("%w: from %s is before %s, the earliest the API accepts", ErrInvalidCostsWindow,
			w.From.UTC().Format(time.RFC3339), EarliestCostsDate.Format(time.RFC3339))
	case w.To.Before(w.From):
		return nil, fmt.Errorf("%w: to is before from", ErrInvalidCostsWindow)
	}
	return url.Values{
		"from": {w.From.UTC().Format(time.RFC3339)},
		"to":   {w.To.UTC().Format(time.RFC3339)},
	}, nil
}

// InstancesOptions are the parameters of BillingV2Service.Instances.
type InstancesOptions struct {
	CostsWindow
	// IncludeNames asks the API to look up serverless project names, which
	// it otherwise leaves empty.
	IncludeNames bool
}

// ServerlessGroupBy is how costs/items groups the serverless items.
type ServerlessGroupBy string

// The spec's serverless_group_by values.
const (
	GroupByProduct       ServerlessGroupBy = "product"
	GroupByProductFamily ServerlessGroupBy = "product_family"
)

// ItemsV2Options are the parameters of BillingV2Service.Items.
type ItemsV2Options struct {
	CostsWindow
	// ServerlessGroupBy is left out when empty.
	ServerlessGroupBy ServerlessGroupBy
}

// ChartsV2Options are the parameters of BillingV2Service.Charts.
type ChartsV2Options struct {
	CostsWindow
	// Bucketing is left out when empty (the spec gives no default).
	Bucketing Bucketing
}

// InstancesCosts is the answer of costs/instances (Instances).
type InstancesCosts struct {
	TotalECU  float64         `json:"total_ecu"`
	Instances []InstanceCosts `json:"instances"`
}

// Instance types. Only InstanceTypeDeployment is documented; serverless
// projects have their project type and organization-level services other
// values, and new ones appear: never validate them.
const (
	InstanceTypeDeployment = "deployment"
)

// InstanceCosts is one billed instance (Instance): a hosted deployment, a
// serverless project or an organization-level service.
type InstanceCosts struct {
	// ID identifies the instance. For a hosted deployment Elastic's own
	// integration joins it to the deployment's Elasticsearch resource id,
	// which may differ from the deployment id.
	ID string `json:"id"`
	// Name is empty for serverless projects unless IncludeNames was set.
	Name      string            `json:"name"`
	Type      string            `json:"type"`
	TotalECU  float64           `json:"total_ecu"`
	LineItems []ProductLineItem `json:"product_line_items"`
}

// ProductLineItem is one billed line (ProductLineItem). For hosted
// deployments, Type "capacity" lines are what v1 calls items (Quantity in
// hours, Rate per hour) and the others (data_in, data_out,
// data_internode, storage_bytes, storage_api, ...) what v1 calls data
// transfer and storage.
type ProductLineItem struct {
	Name string `json:"name"`
	Type string `json:"type"`
	SKU  string `json:"sku"`
	Unit string `json:"unit"`
	// Kind is the resource kind (elasticsearch, kibana, ...); "" when the
	// API sends null (data transfer, snapshots, synthetics).
	Kind     string     `json:"kind"`
	TotalECU float64    `json:"total_ecu"`
	Quantity V2Quantity `json:"quantity"`
	Rate     V2Rate     `json:"rate"`
}

// V2Quantity is a line's usage (Quantity).
type V2Quantity struct {
	Value          float64 `json:"value"`
	FormattedValue string  `json:"formatted_value"`
}

// V2Rate is a line's price per unit (Rate).
type V2Rate struct {
	Value          float64 `json:"value"`
	FormattedValue string  `json:"formatted_value"`
}

// ProductsCosts is the answer of costs/items (Items).
type ProductsCosts struct {
	TotalECU float64        `json:"total_ecu"`
	Products []ProductCosts `json:"products"`
}

// ProductCosts is the lines of one product type (Product).
type ProductCosts struct {
	Type      string            `json:"type"`
	TotalECU  float64           `json:"total_ecu"`
	LineItems []ProductLineItem `json:"product_line_items"`
}

// Instances returns the costs of every billed instance of the
// organization over the window, each with its line items.
//
// GET /api/v2/billing/organizations/{organization_id}/costs/instances (getCostsByInstancesV2)
func (s *BillingV2Service) Instances(ctx context.Context, orgID string, opts InstancesOptions) (*InstancesCosts, *Response, error) {
	o, err := segment("organization_id", orgID)
	if err != nil {
		return nil, nil, fmt.Errorf("get instances costs: %w", err)
	}
	q, err := opts.values()
	if err != nil {
		return nil, nil, fmt.Errorf("get instances costs: %w", err)
	}
	if opts.IncludeNames {
		q.Set("include_names", "true")
	}
	var v InstancesCosts
	resp, err := s.client.getAt(ctx, s.client.billingV2URL, "getCostsByInstancesV2", "billing/organizations/"+o+"/costs/instances", q, &v)
	if err != nil {
		return nil, resp, fmt.Errorf("get instances costs of organization %q: %w", orgID, err)
	}
	return &v, resp, nil
}

// Items returns the organization's costs by product over the window.
//
// GET /api/v2/billing/organizations/{organization_id}/costs/items (getCostsByItemsV2)
func (s *BillingV2Service) Items(ctx context.Context, orgID string, opts ItemsV2Options) (*ProductsCosts, *Response, error) {
	o, err := segment("organization_id", orgID)
	if err != nil {
		return nil, nil, fmt.Errorf("get itemized costs (v2): %w", err)
	}
	q, err := opts.values()
	if err != nil {
		return nil, nil, fmt.Errorf("get itemized costs (v2): %w", err)
	}
	switch opts.ServerlessGroupBy {
	case "":
	case GroupByProduct, GroupByProductFamily:
		q.Set("serverless_group_by", string(opts.ServerlessGroupBy))
	default:
		return nil, nil, fmt.Errorf("get itemized costs (v2): serverless_group_by %q: must be product or product_family", opts.ServerlessGroupBy)
	}
	var v ProductsCosts
	resp, err := s.client.getAt(ctx, s.client.billingV2URL, "getCostsByItemsV2", "billing/organizations/"+o+"/costs/items", q, &v)
	if err != nil {
		return nil, resp, fmt.Errorf("get itemized costs (v2) of organization %q: %w", orgID, err)
	}
	return &v, resp, nil
}

// Charts returns the organization's usage chart over the window: one
// bucket per day or month, one value per instance.
//
// GET /api/v2/billing/organizations/{organization_id}/charts (getChartsV2)
func (s *BillingV2Service) Charts(ctx context.Context, orgID string, opts ChartsV2Options) (*ChartItems, *Response, error) {
	o, err := segment("organization_id", orgID)
	if err != nil {
		return nil, nil, fmt.Errorf("get usage charts: %w", err)
	}
	q, err := opts.values()
	if err != nil {
		return nil, nil, fmt.Errorf("get usage charts: %w", err)
	}
	switch opts.Bucketing {
	case "":
	case BucketingDaily, BucketingMonthly:
		q.Set("bucketing_strategy", string(opts.Bucketing))
	default:
		return nil, nil, fmt.Errorf("get usage charts: bucketing strategy %q: must be daily or monthly", opts.Bucketing)
	}
	var v ChartItems
	resp, err := s.client.getAt(ctx, s.client.billingV2URL, "getChartsV2", "billing/organizations/"+o+"/charts", q, &v)
	if err != nil {
		return nil, resp, fmt.Errorf("get usage charts of organization %q: %w", orgID, err)
	}
	return &v, resp, nil
}

// v2ErrorReply is the error body of the billing v2 service (a marshmallow
// validation error): {"error": "invalid_input", "message": "...",
// "detail": {"messages": {"_schema": ["'from' must not be earlier than
// 2021-01-01T00:00:00+00:00"]}}, "success": false}.
type v2ErrorReply struct {
	Error   *string         `json:"error"`
	Message string          `json:"message"`
	Detail  json.RawMessage `json:"detail"`
}

// maxV2Messages and maxV2MessageRunes bound what a v2 error body adds to an
// *APIError.
const (
	maxV2Messages     = 5
	maxV2MessageRunes = 200
)

// v2ErrorElement reads a billing v2 error body as one ErrorElement: its
// error as the code, its message and the detail's messages (bounded) as
// the message, the fields the detail names as the fields. ok is false for
// any other body.
func v2ErrorElement(body []byte) (ErrorElement, bool) {
	var r v2ErrorReply
	if json.Unmarshal(body, &r) != nil || r.Error == nil || *r.Error == "" {
		return ErrorElement{}, false
	}
	el := ErrorElement{Code: cut(*r.Error, 64)}
	var parts []string
	if r.Message != "" {
		parts = append(parts, cut(r.Message, maxV2MessageRunes))
	}
	var detail struct {
		Messages map[string]json.RawMessage `json:"messages"`
	}
	if len(r.Detail) > 0 && json.Unmarshal(r.Detail, &detail) == nil {
		keys := make([]string, 0, len(detail.Messages))
		for k := range detail.Messages {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		n := 0
		for _, k := range keys {
			if k != "_schema" && len(el.Fields) < maxV2Messages {
				el.Fields = append(el.Fields, cut(k, 64))
			}
			var msgs []string
			if json.Unmarshal(detail.Messages[k], &msgs) != nil {
				var one string
				if json.Unmarshal(detail.Messages[k], &one) != nil {
					continue
				}
				msgs = []string{one}
			}
			for _, m := range msgs {
				if n == maxV2Messages {
					break
				}
				if k != "_schema" {
					m = k + ": " + m
				}
				parts = append(parts, cut(m, maxV2MessageRunes))
				n++
			}
		}
	}
	el.Message = strings.Join(parts, "; ")
	return el, true
}

// cut keeps the first n runes of s, control characters removed.
func cut(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	if utf8.RuneCountInString(s) > n {
		return string([]rune(s)[:n]) + "..."
	}
	return s
}
