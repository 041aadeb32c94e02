package eceapi

import (
	"context"
	"errors"
	"fmt"
)

// AccountsService covers the Accounts operations.
type AccountsService service

// Get returns the account of the credentials.
//
// GET /account (get-current-account)
func (s *AccountsService) Get(ctx context.Context) (*AccountResponse, *Response, error) {
	var v AccountResponse
	resp, err := s.client.get(ctx, "get-current-account", "account", nil, &v)
	if err != nil {
		return nil, resp, fmt.Errorf("get account: %w", err)
	}
	if v.ID == "" {
		// id is required by the spec; callers use it as the organization.
		return nil, resp, fmt.Errorf("get account: %w", &DecodeError{Operation: "get-current-account", Err: errors.New("answer holds no id")})
	}
	return &v, resp, nil
}

// OrganizationsService covers the Organizations operations (ESS only).
type OrganizationsService service

// List returns the organizations of the credentials. ESS only.
//
// GET /organizations (list-organizations)
func (s *OrganizationsService) List(ctx context.Context) (*OrganizationList, *Response, error) {
	var v OrganizationList
	resp, err := s.client.get(ctx, "list-organizations", "organizations", nil, &v)
	if err != nil {
		return nil, resp, fmt.Errorf("list organizations: %w", err)
	}
	return &v, resp, nil
}
