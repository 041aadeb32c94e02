package eceapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// DeploymentsService covers the Deployments operations.
type DeploymentsService service

// StatelessKinds are the values of the spec's stateless_resource_kind enum,
// the resource kinds that can be upgraded on their own.
var StatelessKinds = []string{"kibana", "apm", "appsearch", "enterprise_search", "integrations_server"}

// IsStatelessKind reports whether kind is in the stateless_resource_kind enum.
func IsStatelessKind(kind string) bool {
	for _, k := range StatelessKinds {
		if k == kind {
			return true
		}
	}
	return false
}

// List returns every deployment the credentials can see, with its resources.
//
// GET /deployments (list-deployments)
func (s *DeploymentsService) List(ctx context.Context) (*DeploymentsListResponse, *Response, error) {
	var v DeploymentsListResponse
	resp, err := s.client.get(ctx, "list-deployments", "deployments", nil, &v)
	if err != nil {
		return nil, resp, fmt.Errorf("list deployments: %w", err)
	}
	return &v, resp, nil
}

// RemoteClusters returns the certificate-based remote clusters of one
// Elasticsearch resource.
//
// GET /deployments/{deployment_id}/elasticsearch/{ref_id}/remote-clusters (get-deployment-es-resource-remote-clusters)
func (s *DeploymentsService) RemoteClusters(ctx context.Context, deploymentID, refID string) (*RemoteResources, *Response, error) {
	d, err := segment("deployment_id", deploymentID)
	if err != nil {
		return nil, nil, fmt.Errorf("get remote clusters: %w", err)
	}
	r, err := segment("ref_id", refID)
	if err != nil {
		return nil, nil, fmt.Errorf("get remote clusters: %w", err)
	}
	var v RemoteResources
	resp, err := s.client.get(ctx, "get-deployment-es-resource-remote-clusters", "deployments/"+d+"/elasticsearch/"+r+"/remote-clusters", nil, &v)
	if err != nil {
		return nil, resp, fmt.Errorf("get remote clusters of deployment %q resource %q: %w", deploymentID, refID, err)
	}
	return &v, resp, nil
}

// UpgradeDryRun asks which version an upgrade of a stateless resource
// (Kibana, APM, Integrations Server, App Search, Enterprise Search) would
// move to, without upgrading: validate_only=true is always sent, and there is
// no way to call this operation without it. The request is not retried.
//
// POST /deployments/{deployment_id}/{stateless_resource_kind}/{ref_id}/_upgrade?validate_only=true (upgrade-deployment-stateless-resource)
func (s *DeploymentsService) UpgradeDryRun(ctx context.Context, deploymentID, kind, refID string) (*DeploymentResourceUpgradeResponse, *Response, error) {
	if !IsStatelessKind(kind) {
		return nil, nil, fmt.Errorf("upgrade dry run: %q: %w", kind, ErrInvalidKind)
	}
	d, err := segment("deployment_id", deploymentID)
	if err != nil {
		return nil, nil, fmt.Errorf("upgrade dry run: %w", err)
	}
	r, err := segment("ref_id", refID)
	if err != nil {
		return nil, nil, fmt.Errorf("upgrade dry run: %w", err)
	}
	q := url.Values{"validate_only": []string{"true"}}
	// The API may accept the dry run with an empty body (or only
	// whitespace, or {}): no version reported, not a failure. The
	// operation says so before the call, so that the call is observed as
	// a success too.
	req, err := s.client.newRequest(allowEmptyBody(ctx), "upgrade-deployment-stateless-resource", http.MethodPost, "deployments/"+d+"/"+kind+"/"+r+"/_upgrade", q, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("upgrade dry run: %w", err)
	}
	var v DeploymentResourceUpgradeResponse
	resp, err := s.client.do(req, &v, false)
	if err != nil {
		return nil, resp, fmt.Errorf("upgrade dry run of deployment %q %s %q: %w", deploymentID, kind, refID, err)
	}
	return &v, resp, nil
}
