package pool

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/ndshm/ndshm"
)

// Number is the element types ops run on: NumPy's int, uint and float
// dtypes, native byte order.
type Number interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~float32 | ~float64
}

// An impl runs an op over rows [lo, hi) of src: in place, or, with dst,
// on a copy of those rows in dst.
type impl func(src, dst *ndshm.Block, lo, hi int, p Params) (Stats, error)

// elemKey is a dtype's NumPy kind and size: 'f', 8 for float64.
type elemKey struct {
	kind byte
	size int
}

func (k elemKey) String() string { return fmt.Sprintf("%c%d", k.kind, k.size) }

// An opDef is everything registered under one op name.
type opDef struct {
	name       string
	idempotent bool // running it twice on the same data is running it once
	readOnly   bool // never writes: a reduction
	overwrites bool // writes every element in place without reading it (prefault.go)
	check      func(p Params, d ndshm.DType) error
	bins       func(p Params) int // the histogram length results must have
	exact      bool               // results must count every element of the partition
	impls      map[elemKey]impl
}

// registry holds every op; Register fills it, normally from init
// functions, before any pool runs.
var registry = struct {
	sync.RWMutex
	ops map[string]*opDef
}{ops: map[string]*opDef{}}

// A RegisterOption declares a property of an op to Register.
type RegisterOption func(*opDef)

// Idempotent declares that applying the op twice gives what applying it
// once does (fill, clip), so a partition whose worker died mid-task may
// safely be redone in place.
func Idempotent() RegisterOption { return func(d *opDef) { d.idempotent = true } }

// ReadOnly declares that the op never writes the array: it is a
// reduction, run with Reduce (Map refuses it), and always safe to retry.
func ReadOnly() RegisterOption { return func(d *opDef) { d.readOnly = true } }

// Validate has f check an op's parameters in the calling process before
// any partition runs, so that bad parameters fail the call before
// anything is written. Without it an op gets any parameters.
func Validate(f func(Params) error) RegisterOption {
	return func(d *opDef) { d.check = func(p Params, _ ndshm.DType) error { return f(p) } }
}

// Register makes fn the op name for arrays of element type T. fn gets a
// partition: the view of a range of rows (axis 0) of the array, which it
// may read and write, and the op's parameters; it runs in a worker
// process or goroutine, concurrently with other partitions of the same
// array. A partition of a Fortran-order array is strided: use At and
// Set, or Flat when it reports true.
//
// Register ops in an init function, so that worker processes, which run
// the same binary, have them too. One name may be registered for several
// types, each time Idempotent or not, ReadOnly or not, alike; the first
// Validate given for the name checks its parameters for every type.
// Register panics on an invalid name (1 to 32 letters, digits, '_', '-',
// '.'), on conflicting options and on a second registration for the same
// name and type. It is safe for concurrent use.
func Register[T Number](name string, fn func(a ndshm.Array[T], p Params) (Stats, error), opts ...RegisterOption) {
	if fn == nil {
		panic("pool: Register " + name + ": nil function")
	}
	def := opDef{name: name}
	for _, o := range opts {
		o(&def)
	}
	register(def, keyOf[T](), userImpl(fn))
}

func register(def opDef, key elemKey, f impl) {
	if !validOpName(def.name) {
		panic(fmt.Sprintf("pool: Register: invalid op name %q", def.name))
	}
	registry.Lock()
	defer registry.Unlock()
	d := registry.ops[def.name]
	if d == nil {
		d = &def
		d.impls = make(map[elemKey]impl)
		registry.ops[def.name] = d
	} else if d.idempotent != def.idempotent || d.readOnly != def.readOnly {
		panic("pool: Register " + def.name + ": Idempotent or ReadOnly differs from its first registration")
	} else if d.check == nil {
		d.check = def.check
	}
	if _, dup := d.impls[key]; dup {
		panic(fmt.Sprintf("pool: Register %s: registered twice for %v", def.name, key))
	}
	d.impls[key] = f
}

func keyOf[T Number]() elemKey {
	t := reflect.TypeFor[T]()
	kind := byte('f')
	switch t.Kind() {
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		kind = 'i'
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		kind = 'u'
	}
	return elemKey{kind, int(t.Size())}
}

// lookup returns the op name.
func lookup(name string) (*opDef, error) {
	registry.RLock()
	defer registry.RUnlock()
	if d := registry.ops[name]; d != nil {
		return d, nil
	}
	return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownOp, name, strings.Join(slices.Sorted(maps.Keys(registry.ops)), ", "))
}

// implFor returns the op's implementation for arrays of dtype dt.
func (d *opDef) implFor(dt ndshm.DType) (impl, error) {
	key := elemKey{dt.Kind(), dt.Size()}
	registry.RLock()
	defer registry.RUnlock()
	if f := d.impls[key]; f != nil && dt.Native() && dt.Fields() == nil {
		return f, nil
	}
	var have []string
	for k := range d.impls {
		have = append(have, k.String())
	}
	slices.Sort(have)
	return nil, dtypeError(fmt.Sprintf("op %s does not apply to dtype %s: it runs on %s in native byte order (convert the array first, e.g. with numpy's astype)",
		d.name, dt, strings.Join(have, ", ")))
}

// A dtypeError is an op that exists but not for the array's dtype: an
// ndshm.ErrDType, not a mistake in the op string.
type dtypeError string

func (e dtypeError) Error() string        { return string(e) }
func (e dtypeError) Is(target error) bool { return target == ndshm.ErrDType }

// validate checks the op's parameters for an array of dtype dt, in the
// calling process, before any partition runs.
func (d *opDef) validate(p Params, dt ndshm.DType) error {
	if len(p) > maxParams {
		return fmt.Errorf("%w: %s: %d parameters, at most %d", ErrParams, d.name, len(p), maxParams)
	}
	if d.check != nil {
		if err := d.check(p, dt); err != nil {
			return fmt.Errorf("%w: %w", ErrParams, err)
		}
	}
	return nil
}

// Params are an op's numeric parameters, at most four: "affine=2,1"
// has 2 and 1. They travel to workers as float64.
type Params []float64

// ParseOp splits an op string, NAME or NAME=P1,P2,...: "sqrt",
// "affine=2,1", "histogram=10,0,1". Parameters are floats as
// strconv.ParseFloat reads them ("1e3", "-inf"); at most four. It checks
// only the syntax: whether the op exists and takes those parameters is
// checked when it runs.
func ParseOp(s string) (name string, p Params, err error) {
	name, args, hasArgs := strings.Cut(strings.TrimSpace(s), "=")
	name = strings.TrimSpace(name)
	if !validOpName(name) {
		return "", nil, fmt.Errorf("%w: op %q: name must be 1 to %d letters, digits, '_', '-' or '.'", ErrParams, s, maxOpName)
	}
	if !hasArgs {
		return name, nil, nil
	}
	fields := strings.Split(args, ",")
	if len(fields) > maxParams {
		return "", nil, fmt.Errorf("%w: op %q: %d parameters, at most %d", ErrParams, s, len(fields), maxParams)
	}
	for i, f := range fields {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			return "", nil, fmt.Errorf("%w: op %q: parameter %d, %q, is not a number", ErrParams, s, i+1, strings.TrimSpace(f))
		}
		p = append(p, v)
	}
	return name, p, nil
}

// validOpName reports whether s may name an op: it fits a task frame and
// cannot be confused with the parameter syntax.
func validOpName(s string) bool {
	if s == "" || len(s) > maxOpName {
		return false
	}
	for _, c := range []byte(s) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
		if !ok {
			return false
		}
	}
	return true
}

// String formats p as ParseOp reads it, without the name: "2,1".
func (p Params) String() string {
	s := make([]string, len(p))
	for i, v := range p {
		s[i] = strconv.FormatFloat(v, 'g', -1, 64)
	}
	return strings.Join(s, ",")
}

// want checks the number of parameters an op takes.
func (p Params) want(op string, names ...string) error {
	if len(p) == len(names) {
		return nil
	}
	if len(names) == 0 {
		return fmt.Errorf("%w: %s takes no parameters, got %d", ErrParams, op, len(p))
	}
	return fmt.Errorf("%w: %s takes %d parameter(s), %s=%s; got %d", ErrParams, op,
		len(names), op, strings.Join(names, ","), len(p))
}

// userImpl adapts a registered function. Out of place, it copies the
// partition into dst and runs fn there.
func userImpl[T Number](fn func(ndshm.Array[T], Params) (Stats, error)) impl {
	return func(src, dst *ndshm.Block, lo, hi int, p Params) (Stats, error) {
		a, err := view[T](src, lo, hi)
		if err != nil {
			return Stats{}, err
		}
		if dst != nil {
			d, err := view[T](dst, lo, hi)
			if err != nil {
				return Stats{}, err
			}
			eachRun2(a, d, func(x, y []T) { copy(y, x) })
			a = d
		}
		return fn(a, p)
	}
}
