package clientapi

import (
	"encoding/json"
	"testing"
)

func wantUnauthorized(t *testing.T, status int, body []byte) {
	t.Helper()
	if status != 401 || string(body) != `{"code":0,"message":"401: Unauthorized"}`+"\n" {
		t.Fatalf("got %d %s, want 401 with Discord's body", status, body)
	}
}

func wantError(t *testing.T, status int, body []byte, wantStatus, wantCode int) {
	t.Helper()
	var e struct {
		Code int `json:"code"`
	}
	json.Unmarshal(body, &e)
	if status != wantStatus || e.Code != wantCode {
		t.Fatalf("got %d %s, want %d code %d", status, body, wantStatus, wantCode)
	}
}

func wantFormError(t *testing.T, status int, body []byte, field string) {
	t.Helper()
	var e struct {
		Code    int                        `json:"code"`
		Message string                     `json:"message"`
		Errors  map[string]json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(body, &e); err != nil || status != 400 || e.Code != 50035 || e.Message != "Invalid Form Body" {
		t.Fatalf("got %d %s, want 400 Invalid Form Body", status, body)
	}
	if _, ok := e.Errors[field]; !ok {
		t.Fatalf("errors %s do not name %q", body, field)
	}
}
