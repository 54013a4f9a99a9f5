package human

import (
	"testing"
	"time"
)

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1 KiB", 1536: "1.5 KiB",
		256 << 20: "256 MiB", 3 << 40: "3 TiB", 5 << 60: "5120 PiB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		1234567890: "1.235s", 12345678: "12.35ms", 250123: "250.1µs", 42: "0s", 0: "0s",
	} {
		if got := Duration(d).String(); got != want {
			t.Errorf("Duration(%d) = %s, want %s", d, got, want)
		}
	}
}

func TestParseBytes(t *testing.T) {
	for s, want := range map[string]int{"1": 1, "64KiB": 64 << 10, "1MiB": 1 << 20, "2GiB": 2 << 30,
		"0": 0, "-1": 0, "1XB": 0, "KiB": 0, "1.5MiB": 0, "1024GiB": 1 << 40, "1025GiB": 0} {
		got, err := ParseBytes(s)
		if want == 0 && err == nil || want != 0 && (err != nil || got != want) {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
}
