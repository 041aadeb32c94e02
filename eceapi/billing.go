package eceapi

import (
	"context"
	"fmt"
	"net/url"
	"time"
)

// BillingService covers the BillingCostsAnalysis operations. They are ESS
// only ("Currently unavailable in self-hosted ECE") and experimental.
type BillingService service

// EarliestCostsDate is the earliest `from` the billing API accepts.
var EarliestCostsDate = time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)

// CostsOptions is the time range of a costs query. Zero values leave the
// parameter out (the API then uses the start of the month and now).
type CostsOptions struct {
	From, To time.Time
}

// Bucketing is a chart bucketing strategy.
type Bucketing string

// Bucketing strategies. The spec's enum is lower case (its default "Daily"
// contradicts it), so lower case is always sent.
const (
	BucketingDaily   Bucketing = "daily"
	BucketingMonthly Bucketing = "monthly"
)

// ChartsOptions is the time range and bucketing of a chart query.
type ChartsOptions struct {
	CostsOptions
	Bucketing Bucketing
}

func (o *CostsOptions) values() url.Values {
	q := url.Values{}
	if o == nil {
		return q
	}
	if !o.From.IsZero() {
		q.Set("from", o.From.UTC().Format(time.RFC3339))
	}
	if !o.To.IsZero() {
		q.Set("to", o.To.UTC().Format(time.RFC3339))
	}
	return q
}

func (o *ChartsOptions) values() (url.Values, error) {
	if o == nil {
		return url.Values{}, nil
	}
	q := o.CostsOptions.values()
	switch o.Bucketing {
	case "":
	case BucketingDaily, BucketingMonthly:
		q.Set("bucketing_strategy", string(o.Bucketing))
	default:
		return nil, fmt.Errorf("bucketing strategy %q: must be daily or monthly", o.Bucketing)
	}
	return q, nil
}

// Overview returns the organization's costs overview, including its balance.
//
// GET /billing/costs/{organization_id} (get-costs-overview)
func (s *BillingService) Overview(ctx context.Context, orgID string, opts *CostsOptions) (*CostsOverview, *Response, error) {
	o, err := segment("organization_id", orgID)
	if err != nil {
		return nil, nil, fmt.Errorf("get costs overview: %w", err)
	}
	var v CostsOverview
	resp, err := s.client.get(ctx, "get-costs-overview", "billing/costs/"+o, opts.values(), &v)
	if err != nil {
		return nil, resp, fmt.Errorf("get costs overview of organization %q: %w", orgID, err)
	}
	return &v, resp, nil
}

// Deployments returns the costs of every deployment of the organization in
// one call.
//
// GET /billing/costs/{organization_id}/deployments (get-costs-deployments)
func (s *BillingService) Deployments(ctx context.Context, orgID string, opts *CostsOptions) (*DeploymentsCosts, *Response, error) {
	o, err := segment("organization_id", orgID)
	if err != nil {
		return nil, nil, fmt.Errorf("get deployments costs: %w", err)
	}
	var v DeploymentsCosts
	resp, err := s.client.get(ctx, "get-costs-deployments", "billing/costs/"+o+"/deployments", opts.values(), &v)
	if err != nil {
		return nil, resp, fmt.Errorf("get deployments costs of organization %q: %w", orgID, err)
	}
	return &v, resp, nil
}

// DeploymentItems returns one deployment's itemized costs.
//
// GET /billing/costs/{organization_id}/deployments/{deployment_id}/items (get-costs-items-by-deployment)
func (s *BillingService) DeploymentItems(ctx context.Context, orgID, deploymentID string, opts *CostsOptions) (*ItemsCosts, *Response, error) {
	o, err := segment("organization_id", orgID)
	if err != nil {
		return nil, nil, fmt.Errorf("get itemized costs of deployment: %w", err)
	}
	d, err := segment("deployment_id", deploymentID)
	if err != nil {
		return nil, nil, fmt.Errorf("get itemized costs of deployment: %w", err)
	}
	var v ItemsCosts
	resp, err := s.client.get(ctx, "get-costs-items-by-deployment", "billing/costs/"+o+"/deployments/"+d+"/items", opts.values(), &v)
	if err != nil {
		return nil, resp, fmt.Errorf("get itemized costs of deployment %q: %w", deploymentID, err)
	}
	return &v, resp, nil
}

// Charts returns the organization's cost chart (one series per deployment).
//
// GET /billing/costs/{organization_id}/charts (get-costs-charts)
func (s *BillingService) Charts(ctx context.Context, orgID string, opts *ChartsOptions) (*ChartItems, *Response, error) {
	o, err := segment("organization_id", orgID)
	if err != nil {
		return nil, nil, fmt.Errorf("get cost charts: %w", err)
	}
	q, err := opts.values()
	if err != nil {
		return nil, nil, fmt.Errorf("get cost charts: %w", err)
	}
	var v ChartItems
	resp, err := s.client.get(ctx, "get-costs-charts", "billing/costs/"+o+"/charts", q, &v)
	if err != nil {
		return nil, resp, fmt.Errorf("get cost charts of organization %q: %w", orgID, err)
	}
	return &v, resp, nil
}

// DeploymentCharts returns one deployment's cost chart.
//
// GET /billing/costs/{organization_id}/deployments/{deployment_id}/charts (get-costs-charts-by-deployment)
func (s *BillingService) DeploymentCharts(ctx context.Context, orgID, deploymentID string, opts *ChartsOptions) (*ChartItems, *Response, error) {
	o, err := segment("organization_id", orgID)
	if err != nil {
		return nil, nil, fmt.Errorf("get cost charts of deployment: %w", err)
	}
	d, err := segment("deployment_id", deploymentID)
	if err != nil {
		return nil, nil, fmt.Errorf("get cost charts of deployment: %w", err)
	}
	q, err := opts.values()
	if err != nil {
		return nil, nil, fmt.Errorf("get cost charts of deployment: %w", err)
	}
	var v ChartItems
	resp, err := s.client.get(ctx, "get-costs-charts-by-deployment", "billing/costs/"+o+"/deployments/"+d+"/charts", q, &v)
	if err != nil {
		return nil, resp, fmt.Errorf("get cost charts of deployment %q: %w", deploymentID, err)
	}
	return &v, resp, nil
}
