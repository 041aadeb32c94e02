package eceapi

import (
	"context"
	"fmt"
)

// APIKeysService covers the API key listing operations.
type APIKeysService service

// List returns the metadata of the calling user's API keys.
//
// GET /users/auth/keys (get-api-keys)
func (s *APIKeysService) List(ctx context.Context) (*APIKeysResponse, *Response, error) {
	var v APIKeysResponse
	resp, err := s.client.get(ctx, "get-api-keys", "users/auth/keys", nil, &v)
	if err != nil {
		return nil, resp, fmt.Errorf("list API keys: %w", err)
	}
	return &v, resp, nil
}

// ListAll returns the metadata of every user's API keys. ECE only; needs a
// platform administrator.
//
// GET /users/auth/keys/_all (get-users-api-keys)
func (s *APIKeysService) ListAll(ctx context.Context) (*APIKeysResponse, *Response, error) {
	var v APIKeysResponse
	resp, err := s.client.get(ctx, "get-users-api-keys", "users/auth/keys/_all", nil, &v)
	if err != nil {
		return nil, resp, fmt.Errorf("list API keys of all users: %w", err)
	}
	return &v, resp, nil
}
