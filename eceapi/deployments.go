package eceapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	req, err := s.client.newRequest(ctx, "upgrade-deployment-stateless-resource", http.MethodPost, "deployments/"+d+"/"+kind+"/"+r+"/_upgrade", q, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("upgrade dry run: %w", err)
	}
	var v DeploymentResourceUpgradeResponse
	resp, err := s.client.do(req, &v, false)
	if err != nil && !emptyBody(resp, err) {
		return nil, resp, fmt.Errorf("upgrade dry run of deployment %q %s %q: %w", deploymentID, kind, refID, err)
	}
	// The API may accept the dry run with an empty body (or {}): no
	// version reported, not a failure.
	return &v, resp, nil
}

// emptyBody reports whether err is the decode error of a 2xx answer that
// had no body at all: Content-Length 0, or a JSON decoder that met the end
// of its input before the first byte (io.EOF from a json.Decoder, a
// SyntaxError at offset 0 from json.Unmarshal).
func emptyBody(resp *Response, err error) bool {
	var de *DecodeError
	if resp == nil || resp.Response == nil || !errors.As(err, &de) {
		return false
	}
	if resp.ContentLength == 0 || errors.Is(de.Err, io.EOF) {
		return true
	}
	var se *json.SyntaxError
	return errors.As(de.Err, &se) && se.Offset == 0
}
