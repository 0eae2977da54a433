package report

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/internal/browsertest"

	"github.com/httpsguard/httpsguard/scan"
)

var screenshotOut = flag.String("screenshot-out", "", "also save the HTML report's screenshot to this file (README.md and docs/reports.md show ../docs/report-html.png)")

// screenshot renders an HTML file with headless Chromium and returns the
// decoded PNG.
func screenshot(t *testing.T, bin, htmlPath string, width, height int, extra ...string) image.Image {
	t.Helper()
	dir := t.TempDir()
	out := filepath.Join(dir, "shot.png")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-extensions", "--disable-sync", "--no-first-run", "--hide-scrollbars",
		"--user-data-dir=" + filepath.Join(dir, "profile"),
		"--screenshot=" + out, fmt.Sprintf("--window-size=%d,%d", width, height),
	}, extra...)
	args = append(args, "file://"+htmlPath)
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.Bytes())
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatalf("chromium wrote no screenshot: %v\n%s", err, stderr.Bytes())
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// hasColor reports whether some pixel of img is within a small distance of
// c (anti-aliasing shifts colours a little).
func hasColor(img image.Image, c color.RGBA) bool {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			if near(r>>8, c.R) && near(g>>8, c.G) && near(bl>>8, c.B) {
				return true
			}
		}
	}
	return false
}

func near(a uint32, b uint8) bool {
	d := int(a) - int(b)
	return d >= -6 && d <= 6
}

// TestHTMLScreenshot opens the report in a real browser. The colours prove
// the stylesheet was applied, which also proves the report's own
// Content-Security-Policy hash lets it through; run with
// -screenshot-out=../docs/report-html.png to refresh the picture in the docs.
func TestHTMLScreenshot(t *testing.T) {
	bin := browsertest.Chromium(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	var buf bytes.Buffer
	if err := WriteHTML(&buf, []*scan.Result{fullResult()}, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	img := screenshot(t, bin, page, 1200, 1600)
	if b := img.Bounds(); b.Dx() != 1200 || b.Dy() != 1600 {
		t.Fatalf("screenshot is %v", b)
	}
	for name, c := range map[string]color.RGBA{
		"the C grade ring":       {0x9a, 0x67, 0x00, 0xff},
		"the failure background": {0xff, 0xeb, 0xe9, 0xff},
		"the summary card":       {0xf6, 0xf8, 0xfa, 0xff},
	} {
		if !hasColor(img, c) {
			t.Errorf("the screenshot has no pixel of %s (#%02x%02x%02x): was the stylesheet blocked?", name, c.R, c.G, c.B)
		}
	}
	// A phone-sized window renders too.
	phone := screenshot(t, bin, page, 390, 844)
	if !hasColor(phone, color.RGBA{0x9a, 0x67, 0x00, 0xff}) {
		t.Error("the phone-sized screenshot lacks the grade ring")
	}
	if *screenshotOut != "" {
		f, err := os.Create(*screenshotOut)
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
