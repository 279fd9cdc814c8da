package console_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/ssod/ssod/internal/testenv"
)

// ScreenshotsEnv names the directory the browser test writes a screenshot
// of each page to (docs/screenshots holds the current ones); a temporary
// directory when unset.
const ScreenshotsEnv = "SSOD_CONSOLE_SCREENSHOTS"

// TestBrowserStory drives the console in headless Chromium: sign in with a
// key, create an integration, upload a certificate file, copy the SP
// values, add a teammate, sign them in through SSO against the test's IdP,
// see the sign-in in the traces, sign out.
func TestBrowserStory(t *testing.T) {
	exe := testenv.Program(t, "the console's browser test", "/usr/bin/chromium", "chromium")
	h := newHarness(t)
	shots := os.Getenv(ScreenshotsEnv)
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	browserCtx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	base := h.srv.URL
	// The first call starts the browser, with a context that has no
	// deadline (a deadline there would stop the browser with it).
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.CallBrowser(browserCtx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: name}, Setting: cdpbrowser.PermissionSettingGranted, Origin: base}); err != nil {
			t.Fatalf("start the browser and grant %s: %v", name, err)
		}
	}
	ctx, cancelTimeout := context.WithTimeout(browserCtx, 60*time.Second)
	defer cancelTimeout()

	run := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			png, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644)
		})
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return s
	}
	clipboard := func() string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("read the clipboard: %v", err)
		}
		return s
	}
	// focused is the id (or class) of the element that has the focus.
	focused := func() string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id || document.activeElement.className`))
		if err != nil {
			t.Fatalf("read the focus: %v", err)
		}
		return s
	}
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	id := func(s string) chromedp.ID { return chromedp.ID(s) }

	run("open", chromedp.EmulateViewport(1100, 800),
		chromedp.Navigate(base+"/console"), chromedp.WaitVisible(id("key")), shot("signin"))

	// The keyboard alone: Tab reaches the skip link first, Enter submits.
	run("tab", chromedp.KeyEvent("\t"))
	if got := focused(); got != "skip" {
		t.Errorf("the first Tab focuses %q, want the skip link", got)
	}
	run("sign in with the key", chromedp.SendKeys(id("key"), h.key+"\r"), chromedp.WaitVisible(id("new-h")))

	// A refused form puts the focus on its first field in error.
	run("submit an empty integration", chromedp.Click(css(`form[action="/console/integrations"] button[type=submit]`)),
		chromedp.WaitVisible(id("name-error")))
	if got := focused(); got != "name" {
		t.Errorf("after a refused form the focus is on %q, want the name field", got)
	}

	run("create an integration",
		chromedp.SendKeys(id("name"), "Test IdP"),
		chromedp.SendKeys(id("signin_url"), h.idp.srv.URL+"/sso"),
		chromedp.SendKeys(id("signout_url"), h.idp.srv.URL+"/slo"),
		chromedp.SendKeys(id("entity_id"), idpEntityID),
		chromedp.Click(css(`form[action="/console/integrations"] button[type=submit]`)),
		chromedp.WaitVisible(id("sp-h")))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	inID := loc[strings.LastIndex(loc, "/")+1:]

	pemFile := filepath.Join(t.TempDir(), "idp.pem")
	if err := os.WriteFile(pemFile, []byte(h.idp.cert.PEM), 0o600); err != nil {
		t.Fatal(err)
	}
	run("upload the certificate file", chromedp.SetUploadFiles(id("file"), []string{pemFile}),
		chromedp.Click(css(`form[enctype="multipart/form-data"] button[type=submit]`)),
		chromedp.WaitVisible(css(".cert")))
	if got := text(".cert dl"); !strings.Contains(got, "CN=Test IdP signing") {
		t.Errorf("certificate shown as %q", got)
	}

	run("copy the single sign-on URL", chromedp.WaitVisible(css(`button[data-copy="sso-url"]`)), chromedp.Click(css(`button[data-copy="sso-url"]`)))
	if got, want := clipboard(), base+"/v3/public/sso/saml/response/id/"+inID; got != want {
		t.Errorf("clipboard holds %q, want %q", got, want)
	}
	run("copy the audience URL", chromedp.WaitVisible(css(`button[data-copy="audience-url"]`)), chromedp.Click(css(`button[data-copy="audience-url"]`)))
	if got, want := clipboard(), base+"/v3/public/sso/saml/response/id/"+inID; got != want {
		t.Errorf("clipboard holds %q, want %q", got, want)
	}
	run("copy the metadata URL", chromedp.WaitVisible(css(`button[data-copy="metadata-url"]`)), chromedp.Click(css(`button[data-copy="metadata-url"]`)))
	if got, want := clipboard(), base+"/v3/public/sso/saml/metadata/id/"+inID; got != want {
		t.Errorf("clipboard holds %q, want %q", got, want)
	}
	if got := text("#copy-status"); !strings.HasPrefix(got, "Copied ") {
		t.Errorf("copy status %q", got)
	}

	run("add a teammate", chromedp.Navigate(base+"/console/teammates"), chromedp.WaitVisible(id("add-h")),
		chromedp.SendKeys(id("email"), "jane@example.com"),
		chromedp.SendKeys(id("first_name"), "Jane"),
		chromedp.SendKeys(id("last_name"), "Doe"),
		chromedp.Click(id("access-admin")),
		chromedp.Click(css(`form[action="/console/teammates"] button[type=submit]`)),
		chromedp.WaitVisible(css(`a[href="/console/teammates/jane@example.com"]`)), shot("teammates"))
	run("teammate page", chromedp.Click(css(`a[href="/console/teammates/jane@example.com"]`)),
		chromedp.WaitVisible(id("access-admin")), shot("teammate"))
	run("confirm page", chromedp.Navigate(base+"/console/integrations/"+inID+"/delete"), chromedp.WaitVisible(css("button.danger")), shot("confirm-delete"))

	run("sign out", chromedp.Navigate(base+"/console/integrations"), chromedp.WaitVisible(css(".signout button")),
		chromedp.Click(css(".signout button")), chromedp.WaitVisible(id("email")))

	run("sign in with SSO", chromedp.SendKeys(id("email"), "jane@example.com"),
		chromedp.Click(css(`form[action="/console/signin/sso"] button`)),
		chromedp.WaitVisible(id("new-h")))
	if who := text(".who"); who != "jane@example.com" {
		t.Errorf("signed in as %q", who)
	}
	run("integrations page", shot("integrations"))

	run("see the sign-in in the traces", chromedp.Navigate(base+"/console/integrations/"+inID), chromedp.WaitVisible(css("table.traces")))
	if got := text("table.traces tbody tr"); !strings.Contains(got, "Signed in") || !strings.Contains(got, "jane@example.com") {
		t.Errorf("trace row %q", got)
	}
	run("integration page", shot("integration"))
	run("narrow screen", chromedp.EmulateViewport(390, 800, chromedp.EmulateMobile), shot("integration-narrow"),
		chromedp.EmulateViewport(1100, 800))

	run("audit trail", chromedp.Navigate(base+"/console/audit"), chromedp.WaitVisible(css("table")), shot("audit"))
	run("expiry report", chromedp.Navigate(base+"/console/expiry"), chromedp.WaitVisible(css("table")), shot("expiry"))

	run("sign out", chromedp.Click(css(".signout button")), chromedp.WaitVisible(id("email")))
	run("signed out for good", chromedp.Navigate(base+"/console/integrations"), chromedp.WaitVisible(id("email")))
}
