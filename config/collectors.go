package config

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"
)

// CollectorOptions are the options of one collector, the value of
// collectors.<name>. Each collector declares its own type in its own file
// (a struct with yaml tags, value receivers, an `interval` key) and
// registers it with RegisterCollector; config decodes collectors.<name>
// into a copy of the registered defaults, strictly.
type CollectorOptions interface {
	// PollInterval is how often the collector polls.
	PollInterval() Duration
	// Validate checks the options other than the durations (config checks
	// every Duration field and the minimum interval). An error names the
	// key relative to the collector, e.g. `concurrency: 0: must be between
	// 1 and 64`; config prefixes collectors.<name>.
	Validate() error
}

type collectorSpec struct {
	minInterval time.Duration
	defaults    func() CollectorOptions
}

var (
	specsMu sync.RWMutex
	specs   = map[string]collectorSpec{}
)

// RegisterCollector declares the options of a collector: their defaults
// and the shortest interval accepted (it keeps a configuration from
// exhausting the API rate limit). The collector package calls it from its
// registry; it panics on a name registered twice or defaults that are not
// a struct value.
func RegisterCollector(name string, minInterval time.Duration, defaults func() CollectorOptions) {
	specsMu.Lock()
	defer specsMu.Unlock()
	if _, dup := specs[name]; dup {
		panic("config: collector registered twice: " + name)
	}
	if t := reflect.TypeOf(defaults()); t == nil || t.Kind() != reflect.Struct {
		panic("config: the options of collector " + name + " must be a struct value")
	}
	specs[name] = collectorSpec{minInterval: minInterval, defaults: defaults}
}

// CollectorNames returns the registered collectors, sorted.
func CollectorNames() []string {
	specsMu.RLock()
	defer specsMu.RUnlock()
	names := make([]string, 0, len(specs))
	for n := range specs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// MinInterval returns the shortest interval accepted for a collector.
func MinInterval(name string) time.Duration {
	specsMu.RLock()
	defer specsMu.RUnlock()
	return specs[name].minInterval
}

func spec(name string) (collectorSpec, bool) {
	specsMu.RLock()
	defer specsMu.RUnlock()
	s, ok := specs[name]
	return s, ok
}

// Collectors holds the options of every registered collector, by name.
// They apply to every account and may change on reload. A name missing
// from the map has its defaults (see Options), so the zero value is the
// defaults. Treat a Collectors as immutable: With returns a changed copy.
type Collectors map[string]CollectorOptions

// DefaultCollectors returns the defaults of every registered collector.
func DefaultCollectors() Collectors {
	c := Collectors{}
	for _, n := range CollectorNames() {
		s, _ := spec(n)
		c[n] = s.defaults()
	}
	return c
}

// Options returns the options of collector name: the configured ones, or
// its defaults. It returns nil for a collector that is not registered.
func (c Collectors) Options(name string) CollectorOptions {
	if o, ok := c[name]; ok {
		return o
	}
	if s, ok := spec(name); ok {
		return s.defaults()
	}
	return nil
}

// With returns a copy of c in which collector name has options o.
func (c Collectors) With(name string, o CollectorOptions) Collectors {
	out := make(Collectors, len(c)+1)
	for n, v := range c {
		out[n] = v
	}
	out[name] = o
	return out
}

// UnmarshalYAML decodes collectors.<name> for every name the document
// sets, starting from the collector's defaults, strictly (an unknown key
// is an error), then checks its durations, its minimum interval and calls
// its Validate. Collectors the document leaves out keep their defaults.
// Every semantic error is reported (as one *yaml.TypeError, so that the
// other sections are decoded and checked too), in document order.
func (c *Collectors) UnmarshalYAML(unmarshal func(any) error) error {
	// First the names (a yaml.Node value keeps its position: the names
	// are checked in document order).
	var byName map[string]yaml.Node
	if err := unmarshal(&byName); err != nil {
		return err
	}
	*c = DefaultCollectors()
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := byName[names[i]], byName[names[j]]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	// One struct field per known collector set, so that yaml decodes them
	// all in one strict pass with the document's line numbers.
	// An unknown name gets a yaml.Node field, which takes anything, so
	// that it is reported as unknown and the others are still decoded.
	var errs []error
	var fields []reflect.StructField
	for _, name := range names {
		t := reflect.TypeOf(yaml.Node{})
		if s, ok := spec(name); ok {
			t = reflect.TypeOf(s.defaults())
		}
		fields = append(fields, reflect.StructField{
			Name: fmt.Sprintf("F%d", len(fields)),
			Type: t,
			Tag:  reflect.StructTag(fmt.Sprintf(`yaml:%q`, name)),
		})
	}
	v := reflect.New(reflect.StructOf(fields))
	for i, name := range names {
		if o, ok := (*c)[name]; ok {
			v.Elem().Field(i).Set(reflect.ValueOf(o))
		}
	}
	if err := unmarshal(v.Interface()); err != nil {
		return err
	}
	for i, name := range names {
		if _, ok := spec(name); !ok {
			errs = append(errs, fmt.Errorf("collectors.%s: unknown collector", name))
			continue
		}
		f := v.Elem().Field(i)
		if err := checkDurations("collectors."+name, f); err != nil {
			errs = append(errs, err)
			continue
		}
		o := f.Interface().(CollectorOptions)
		s, _ := spec(name)
		iv := o.PollInterval()
		_, ierr := iv.check("collectors."+name+".interval", s.minInterval, 0)
		if ierr != nil {
			errs = append(errs, ierr)
		}
		if err := o.Validate(); err != nil {
			for _, e := range splitErrors(err) {
				errs = append(errs, fmt.Errorf("collectors.%s.%w", name, e))
			}
			continue
		}
		if ierr != nil {
			continue
		}
		normalizeDurations(f)
		(*c)[name] = f.Interface().(CollectorOptions)
	}
	return semanticErrors(errs)
}

// splitErrors returns the errors joined in err (errors.Join), or err.
func splitErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

var durationType = reflect.TypeOf(Duration{})

// checkDurations reports a Duration field of v that did not parse, with
// its path.
func checkDurations(path string, v reflect.Value) error {
	for i := 0; i < v.NumField(); i++ {
		f, sf := v.Field(i), v.Type().Field(i)
		if sf.Type != durationType {
			continue
		}
		if d := f.Interface().(Duration); d.err != nil {
			key, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
			return fmt.Errorf("%s.%s: %q: %v", path, key, d.text, d.err)
		}
	}
	return nil
}

// normalizeDurations sets the text of every Duration field of v, once
// checked, to the canonical form, so that "60s" and "1m" compare equal.
func normalizeDurations(v reflect.Value) {
	for i := 0; i < v.NumField(); i++ {
		if f := v.Field(i); f.Type() == durationType {
			f.Set(reflect.ValueOf(NewDuration(f.Interface().(Duration).d)))
		}
	}
}

// MarshalYAML prints every registered collector's effective options,
// sorted by name (--config.check).
func (c Collectors) MarshalYAML() (any, error) {
	var node yaml.Node
	node.Kind = yaml.MappingNode
	for _, name := range CollectorNames() {
		var v yaml.Node
		if err := v.Encode(c.Options(name)); err != nil {
			return nil, fmt.Errorf("collectors.%s: %w", name, err)
		}
		node.Content = append(node.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: name}, &v)
	}
	return &node, nil
}

// CheckConcurrency checks a collector's concurrency option.
func CheckConcurrency(n int) error {
	if n < MinConcurrency || n > MaxConcurrency {
		return fmt.Errorf("concurrency: %d: must be between %d and %d", n, MinConcurrency, MaxConcurrency)
	}
	return nil
}
