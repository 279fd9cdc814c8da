package ssodtest_test

import (
	"fmt"
	"testing"

	"github.com/sendgrid/sendgrid-go"
	"github.com/ssod/ssod/ssodtest"
)

// A test starts its own ssod and points sendgrid-go at it.
func Example() {
	var t testing.TB = &testing.T{} // in a test: the test's own t, whose Cleanup closes srv
	srv := ssodtest.New(t, ssodtest.Options{})
	defer srv.Close()

	req := sendgrid.GetRequest(srv.Key, "/v3/sso/integrations", srv.URL)
	res, err := sendgrid.API(req)
	if err != nil {
		panic(err)
	}
	fmt.Println(res.StatusCode, res.Body)
	fmt.Println(srv.Requests("GET", "/v3/sso/integrations")[0].Header["Authorization"][:10])
	// Output:
	// 200 []
	// Bearer SG.
}
