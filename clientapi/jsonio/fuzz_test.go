package jsonio

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"testing"
	"unicode/utf8"

	"concord/clientapi/httperr"
)

// FuzzDecode feeds request bodies to Decode, the one reader of every REST
// JSON body: it accepts only one valid UTF-8 JSON value within the bound,
// and refuses everything else with a 50035 naming a field.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"username":"a","password":"b","email":null,"n":1,"list":["1"]}`,
		`{"name":null}`, ``, `{`, `{} {}`, "{\"a\":\"\xff\"}", `{"a":"\ud800"}`, `[1,2]`, `{"n":"1"}`,
	} {
		f.Add([]byte(seed))
	}
	type body struct {
		Username string           `json:"username"`
		Name     Optional[string] `json:"name"`
		N        int              `json:"n"`
		List     []string         `json:"list"`
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := httptest.NewRequest("POST", "/", bytes.NewReader(data))
		var b body
		err := Decode(r, 256, &b)
		if err == nil {
			if len(data) > 256 || !utf8.Valid(data) || !json.Valid(bytes.TrimSpace(data)) {
				t.Fatalf("accepted %q", data)
			}
			return
		}
		var e *httperr.Error
		if !errors.As(err, &e) || e.Code != httperr.CodeInvalidFormBody || len(e.Errors) != 1 {
			t.Fatalf("refused %q with %v", data, err)
		}
	})
}
