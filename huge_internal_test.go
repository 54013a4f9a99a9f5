package ndshm

import (
	"slices"
	"testing"
)

func TestAnonBackings(t *testing.T) {
	const mb = 1 << 20
	base := hugeEnv{page: 2 * mb, hugetlbPage: 2 * mb, shmem: "never"}
	with := func(f func(*hugeEnv)) hugeEnv { e := base; f(&e); return e }
	for _, tc := range []struct {
		what string
		env  hugeEnv
		size int64
		want []backing
	}{
		{"nothing huge", base, 64 * mb, []backing{plain}},
		{"pool big enough", with(func(e *hugeEnv) { e.hugetlbFree = 32 }), 64 * mb, []backing{hugetlb, plain}},
		{"pool exactly enough", with(func(e *hugeEnv) { e.hugetlbFree = 3 }), 5 * mb, []backing{hugetlb, plain}},
		{"pool too small", with(func(e *hugeEnv) { e.hugetlbFree = 2 }), 5 * mb, []backing{plain}},
		{"1 GiB pool pages, small block", with(func(e *hugeEnv) { e.hugetlbFree, e.hugetlbPage = 4, 1<<30 }), 64 * mb, []backing{plain}},
		{"shmem advise", with(func(e *hugeEnv) { e.shmem = "advise" }), 4 * mb, []backing{thpAdvise, plain}},
		{"shmem always", with(func(e *hugeEnv) { e.shmem = "always" }), 4 * mb, []backing{thp, plain}},
		{"shmem within_size", with(func(e *hugeEnv) { e.shmem = "within_size" }), 4 * mb, []backing{thp, plain}},
		{"shmem force", with(func(e *hugeEnv) { e.shmem = "force" }), 4 * mb, []backing{thp, plain}},
		{"shmem deny", with(func(e *hugeEnv) { e.shmem = "deny" }), 4 * mb, []backing{plain}},
		{"huge dir", with(func(e *hugeEnv) { e.dirHuge = true }), 4 * mb, []backing{hugeTemp, plain}},
		{"every source, in order", with(func(e *hugeEnv) { e.hugetlbFree, e.shmem, e.dirHuge = 8, "advise", true }), 4 * mb,
			[]backing{hugetlb, thpAdvise, hugeTemp, plain}},
		{"smaller than a huge page", with(func(e *hugeEnv) { e.hugetlbFree, e.shmem, e.dirHuge = 8, "always", true }), 2*mb - 4096,
			[]backing{plain}},
	} {
		if got := anonBackings(tc.env, tc.size); !slices.Equal(got, tc.want) {
			t.Errorf("%s: anonBackings(%+v, %d) = %v, want %v", tc.what, tc.env, tc.size, got, tc.want)
		}
	}
}

// plan pads a file of a huge page or more to whole huge pages through its
// footer, unless the footer would outgrow maxFooter.
func TestPlanPadding(t *testing.T) {
	const mb = 1 << 20
	u8 := func(n int) Spec { return Spec{DType: Uint8, Shape: []int{n}} }
	for _, tc := range []struct {
		what       string
		spec       Spec
		control    int
		align      int64
		size, foot int64
	}{
		{"no align", u8(5 * mb), 0, 0, 5*mb + 2*page, page},
		{"padded", u8(5 * mb), 0, 2 * mb, 6 * mb, mb - page},
		{"already whole", u8(2*mb - 2*page), 0, 2 * mb, 2 * mb, page},
		{"below a huge page", u8(mb), 0, 2 * mb, mb + 2*page, page},
		{"footer at its limit", u8(5 * mb), maxControl, 2 * mb, 5*mb + page + maxFooter, maxFooter},
	} {
		o := optionsOf(nil)
		o.control = tc.control
		l, err := plan(tc.spec, o, false, tc.align)
		if err != nil || l.size != tc.size || l.foot.footerSize != tc.foot {
			t.Errorf("%s: plan = size %d, footer %d, %v; want %d, %d", tc.what, l.size, l.foot.footerSize, err, tc.size, tc.foot)
		}
	}
}
