package migration

import (
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	good := fstest.MapFS{
		"m/0002_b.sql":  {Data: []byte("B")},
		"m/0010_c.sql":  {Data: []byte("C")},
		"m/0001_a.sql":  {Data: []byte("A")},
		"m/README.md":   {Data: []byte("not a migration")},
		"other/9_x.sql": {Data: []byte("elsewhere")},
	}
	ms, err := Load(good, "m")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 3 || ms[0].SQL != "A" || ms[1].Version != 2 || ms[2].Version != 10 || ms[2].Name != "0010_c.sql" {
		t.Fatalf("Load = %+v, want 1, 2, 10 in order", ms)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"no version":        {"m/init.sql": {Data: []byte("x")}},
		"zero version":      {"m/0_init.sql": {Data: []byte("x")}},
		"duplicate version": {"m/1_a.sql": {Data: []byte("x")}, "m/01_b.sql": {Data: []byte("y")}},
		"none":              {"m/README.md": {Data: []byte("x")}},
	} {
		if _, err := Load(fsys, "m"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
