package ring

import "fmt"

// MarshalText and UnmarshalText let a Mode or Policy be a flag
// (flag.TextVar) or a JSON string by name.
func (m Mode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

func (m *Mode) UnmarshalText(b []byte) error {
	return parseName(b, m, modes, "mode")
}

func (p Policy) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

func (p *Policy) UnmarshalText(b []byte) error {
	return parseName(b, p, policies, "policy")
}

func parseName[T ~uint32](b []byte, v *T, names []string, what string) error {
	for i, n := range names {
		if string(b) == n {
			*v = T(i)
			return nil
		}
	}
	return fmt.Errorf("unknown %s %q (want %s or %s)", what, b, names[0], names[1])
}
