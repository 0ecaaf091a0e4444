package gateway

import "testing"

func TestMatchPath(t *testing.T) {
	tests := []struct {
		pattern, path string
		match         bool
		params        map[string]string
	}{
		{"/api/v1/destinations/{id}", "/api/v1/destinations/abc", true, map[string]string{"id": "abc"}},
		{"/api/v1/destinations/{id}", "/api/v1/destinations/", false, nil},
		{"/api/v1/destinations/{id}", "/api/v1/destinations/a/b", false, nil},
		{"/console", "/console", true, map[string]string{}},
		{"/console", "/console/", false, nil},
		{"/console/{proxy+}", "/console/app.js", true, map[string]string{"proxy": "app.js"}},
		{"/console/{proxy+}", "/console/img/logo.svg", true, map[string]string{"proxy": "img/logo.svg"}},
		{"/console/{proxy+}", "/console/a%20b", true, map[string]string{"proxy": "a b"}},
		{"/console/{proxy+}", "/console/", true, map[string]string{"proxy": ""}},
		{"/console/{proxy+}", "/console", false, nil},
		{"/console/{proxy+}", "/consolex/app.js", false, nil},
	}
	for _, tc := range tests {
		params := map[string]string{}
		if got := matchPath(tc.pattern, tc.path, params); got != tc.match {
			t.Errorf("matchPath(%q, %q) = %v, want %v", tc.pattern, tc.path, got, tc.match)
			continue
		}
		if !tc.match {
			continue
		}
		if len(params) != len(tc.params) {
			t.Errorf("matchPath(%q, %q) params %v, want %v", tc.pattern, tc.path, params, tc.params)
		}
		for k, v := range tc.params {
			if params[k] != v {
				t.Errorf("matchPath(%q, %q) %s = %q, want %q", tc.pattern, tc.path, k, params[k], v)
			}
		}
	}
}
