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

// ListForUser returns the metadata of one user's API keys. ECE only.
//
// GET /users/{user_id}/auth/keys (get-user-api-keys)
func (s *APIKeysService) ListForUser(ctx context.Context, userID string) (*APIKeysResponse, *Response, error) {
	u, err := segment("user_id", userID)
	if err != nil {
		return nil, nil, fmt.Errorf("list API keys of user: %w", err)
	}
	var v APIKeysResponse
	resp, err := s.client.get(ctx, "get-user-api-keys", "users/"+u+"/auth/keys", nil, &v)
	if err != nil {
		return nil, resp, fmt.Errorf("list API keys of user %q: %w", userID, err)
	}
	return &v, resp, nil
}
