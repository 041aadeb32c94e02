package ecesim

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The simulated world: organizations, deployments with resources and their
// prices, remote clusters and API keys, all derived from Options.Seed and
// generated once in New. Prices are integer micro-ECU so that every cost
// sum is exact.

type organization struct {
	id, name string
}

type resource struct {
	kind, refID, id, region string
	esRefID                 string // non-ES kinds: the ES resource they depend on
	sku                     string // instance configuration SKU
	instances               int
	perHourMicro            int64 // micro-ECU per hour, all instances; a multiple of 100
	// resizedAt, when set, is the hour during which the resource moved
	// from oldSKU (at oldPerHourMicro) to sku, splitAt of the way into it
	// (see split): that hour is billed in those shares, so both items have
	// arbitrary fractional hours (210.32671546936035).
	resizedAt       time.Time
	oldSKU          string
	oldPerHourMicro int64
	// version and target are the current and the available stack
	// versions of stateless kinds (equal when already current). version
	// changes on a real upgrade, under Server.mu.
	version, target string
}

// dtsSKU is a Data Transfer and Storage line: perHourMilli thousandths of
// a unit are used each hour at rateMicro micro-ECU per unit. Either
// perHourMilli or rateMicro is a multiple of 1000, so that every cost is a
// whole number of micro-ECU while quantities are fractional.
type dtsSKU struct {
	sku, name, dimension, unit string
	rateMicro                  int64
	perHourMilli               int64
}

// microPerHour is the hourly cost of the line in micro-ECU.
func (x dtsSKU) microPerHour() int64 { return x.perHourMilli * x.rateMicro / 1000 }

// Remote cluster states; each maps to one RemoteResourceInfo.
const (
	remoteOK             = "ok"
	remoteUnhealthy      = "unhealthy"
	remoteDisconnected   = "disconnected"
	remoteUntrusted      = "untrusted"
	remoteNotTrustedBack = "not_trusted_back"
	remoteNoInfo         = "no_info" // info absent
	remoteIncompatible   = "incompatible"
)

type remote struct {
	deploymentID, refID, alias string
	skipUnavailable            bool
	state                      string
}

type deployment struct {
	index     int
	id, name  string
	org       string // "" in ECE mode
	created   time.Time
	resources []*resource
	dts       []dtsSKU
	remotes   []remote
	// resourceMicro and dtsMicro are the hourly costs: every cost of the
	// deployment is a whole number of hours times these.
	resourceMicro, dtsMicro int64
}

type apiKey struct {
	id, userID, org, description string
	created                      time.Time
	expires                      *time.Time
}

type world struct {
	accountID   string
	orgs        []organization
	deployments []*deployment
	byID        map[string]*deployment
	idPrefix    string   // Options.IDPrefix
	resources   int      // Options.ResourcesPerDeployment
	users       []string // ECE users, the configured one first
	keys        []apiKey
}

var (
	nameWords = []string{"search", "logs", "metrics", "apm", "security", "catalog", "orders", "events", "analytics", "traces"}
	envWords  = []string{"prod", "staging", "dev", "qa"}
	regions   = []string{"gcp-europe-west1", "aws-us-east-1", "azure-westeurope", "aws-eu-central-1"}
	// families are the instance families of each cloud provider's SKUs
	// (ECE: the installation's own hardware).
	families = map[string]string{"gcp": "n2", "aws": "c6gd", "azure": "fsv2", "ece": "default"}
	esSizes  = []int{1024, 2048, 4096, 8192, 16384}
	// remoteMix are the not-OK remote states, in the order they recur:
	// every fourth remote cluster is in one of them.
	remoteMix = []string{remoteUnhealthy, remoteDisconnected, remoteUntrusted, remoteNotTrustedBack, remoteNoInfo, remoteIncompatible}
	// keyExpiries cycle over the API keys; 0 = never expires.
	keyExpiries = []time.Duration{3 * 24 * time.Hour, 20 * 24 * time.Hour, 200 * 24 * time.Hour, 0, -2 * 24 * time.Hour, 60 * 24 * time.Hour}
	keyPurposes = []string{"ci", "terraform", "monitoring", "backup", "ingest", "grafana"}
)

// Stack versions of the stateless resources.
const (
	currentVersion = "8.14.3"
	targetVersion  = "8.15.1"
)

func hexID(r *rand.Rand) string {
	return fmt.Sprintf("%016x%016x", r.Uint64(), r.Uint64())
}

// id returns a 32-hex-digit id that starts with the world's idPrefix.
func (w *world) id(r *rand.Rand) string {
	id := hexID(r)
	return w.idPrefix + id[len(w.idPrefix):]
}

// microPerHour converts a random price to micro-ECU with 4 decimals.
func microPerHour(ecu float64) int64 { return int64(math.Round(ecu*1e4)) * 100 }

func newWorld(o Options, now time.Time) *world {
	r := rand.New(rand.NewPCG(uint64(o.Seed), 0x5eed))
	w := &world{byID: map[string]*deployment{}, accountID: strconv.Itoa(1000000000 + r.IntN(899999999)), idPrefix: o.IDPrefix, resources: o.ResourcesPerDeployment}
	norgs := o.Organizations
	if o.Mode == ModeECE {
		norgs = 1 // ECE has no organizations; the deployments are generated once
	}
	for i := range norgs {
		id := w.accountID
		if i > 0 {
			id = strconv.Itoa(1000000000 + r.IntN(899999999))
		}
		w.orgs = append(w.orgs, organization{id: id, name: fmt.Sprintf("sim-org-%02d", i+1)})
	}
	hourNow := now.UTC().Truncate(time.Hour)
	idx := 0
	for _, org := range w.orgs {
		owner := org.id
		if o.Mode == ModeECE {
			owner = ""
		}
		for range o.DeploymentsPerOrg {
			w.addDeployment(r, o.Mode, idx, owner, hourNow)
			idx++
		}
	}
	w.addRemotes(o.RemoteClustersPerES)
	w.addKeys(o, now)
	return w
}

func (w *world) addDeployment(r *rand.Rand, mode Mode, idx int, org string, hourNow time.Time) {
	d := &deployment{
		index: idx, id: w.id(r), org: org,
		name:    fmt.Sprintf("sim-%s-%s-%03d", nameWords[idx%len(nameWords)], envWords[(idx/len(nameWords))%len(envWords)], idx+1),
		created: hourNow.Add(-time.Duration(24*(3+r.IntN(400))+r.IntN(24)) * time.Hour),
	}
	region := regions[idx%len(regions)]
	if mode == ModeECE {
		region = "ece-region"
	}
	csp, place, _ := strings.Cut(region, "-")
	family := families[csp]
	// ESS names resources main-<kind>, ECE installs <kind>; every fifth
	// deployment has names its user chose.
	refID := func(kind string) string {
		switch {
		case idx%5 == 4:
			return nameWords[idx%len(nameWords)] + "-" + kind
		case mode == ModeECE:
			return kind
		}
		return "main-" + kind
	}
	sizeMB := esSizes[r.IntN(len(esSizes))]
	es := &resource{kind: "elasticsearch", refID: refID("elasticsearch"), id: w.id(r), region: region, instances: 1 + r.IntN(3)}
	es.sku = fmt.Sprintf("%s.es.datahot.%s_%s_%d_%d", csp, family, place, sizeMB, es.instances)
	es.perHourMicro = microPerHour(float64(es.instances) * float64(sizeMB) / 4096 * (0.2 + r.Float64()))
	d.resources = append(d.resources, es)
	kinds := []string{"kibana"}
	switch idx % 4 {
	case 1:
		kinds = append(kinds, "integrations_server")
	case 2:
		kinds = append(kinds, "apm", "enterprise_search")
	case 3:
		kinds = append(kinds, "appsearch")
	}
	if w.resources > 0 { // Elasticsearch plus resources-1 stateless kinds
		all := []string{"kibana", "integrations_server", "apm", "enterprise_search", "appsearch"}
		kinds = all[:min(w.resources-1, len(all))]
	}
	for _, k := range kinds {
		res := &resource{kind: k, refID: refID(k), id: w.id(r), region: region, esRefID: es.refID,
			sku: fmt.Sprintf("%s.%s.%s_%s_1024_1", csp, k, family, place), instances: 1, version: currentVersion, target: targetVersion}
		res.perHourMicro = microPerHour(0.05 + r.Float64()*0.2)
		if r.IntN(3) == 0 {
			res.target = res.version // already current
		}
		d.resources = append(d.resources, res)
	}
	d.dts = []dtsSKU{
		// Transfer volumes are fractional (GB to the MB); storage and
		// requests whole units.
		{sku: csp + ".data-transfer-out", name: "Data out (internet)", dimension: "data_out", unit: "GB", rateMicro: 32000, perHourMilli: 1000 + int64(r.IntN(5000))},
		{sku: csp + ".data-transfer-internode", name: "Data inter-node", dimension: "data_internode", unit: "GB", rateMicro: 14000, perHourMilli: 2000 + int64(r.IntN(10000))},
		{sku: csp + ".snapshot-storage", name: "Snapshot storage", dimension: "storage_bytes", unit: "GB-hours", rateMicro: 41, perHourMilli: 1000 * int64(50+r.IntN(500))},
		// Data in is free: a line with usage and no cost.
		{sku: csp + ".data-transfer-in", name: "Data in", dimension: "data_in", unit: "GB", rateMicro: 0, perHourMilli: 1000 + int64(idx%7)*1000 + int64(r.IntN(1000))},
		{sku: csp + ".snapshot-api-requests", name: "Snapshot API requests", dimension: "storage_api", unit: "1k requests", rateMicro: 1800, perHourMilli: 1000 * int64(2+idx%11)},
	}
	// Every third deployment's Elasticsearch was resized this month, from
	// half its size: two items, two SKUs, one resource.
	if idx%3 == 1 {
		monthStart := time.Date(hourNow.Year(), hourNow.Month(), 1, 0, 0, 0, 0, time.UTC)
		at := monthStart.Add((hourNow.Sub(monthStart) / 2).Truncate(time.Hour))
		if at.After(d.created) {
			es.resizedAt = at
			es.oldSKU = fmt.Sprintf("%s.es.datahot.%s_%s_%d_%d", csp, family, place, sizeMB/2, es.instances)
			es.oldPerHourMicro = max(es.perHourMicro/200*100, 100)
		}
	}
	for _, x := range d.resources {
		d.resourceMicro += x.perHourMicro
	}
	for _, x := range d.dts {
		d.dtsMicro += x.microPerHour()
	}
	w.deployments = append(w.deployments, d)
	w.byID[d.id] = d
}

// addRemotes links each Elasticsearch resource to the next deployments;
// every fourth remote is in one of the not-OK states of remoteMix.
func (w *world) addRemotes(perES int) {
	n := len(w.deployments)
	perES = min(perES, n-1)
	k := 0
	for _, d := range w.deployments {
		for j := range perES {
			target := w.deployments[(d.index+1+j)%n]
			state := remoteOK
			if k%4 == 0 {
				state = remoteMix[(k/4)%len(remoteMix)]
			}
			d.remotes = append(d.remotes, remote{
				deploymentID: target.id, refID: target.resources[0].refID,
				alias:           fmt.Sprintf("sim-remote-%03d", target.index+1),
				skipUnavailable: k%3 == 0, state: state,
			})
			k++
		}
	}
}

// builtinUsers are ECE's built-in users, which cannot own API keys.
var builtinUsers = []string{"admin", "readonly"}

func (w *world) addKeys(o Options, now time.Time) {
	users := []string{"sim-user-1"}
	if o.Mode == ModeECE {
		users = []string{"sim-user-1", "sim-user-2"}
		if !slices.Contains(users, o.APIKeyUser) && !slices.Contains(builtinUsers, o.APIKeyUser) {
			users = append([]string{o.APIKeyUser}, users...)
		}
		if !slices.Contains(users, o.Username) && !slices.Contains(builtinUsers, o.Username) {
			users = append([]string{o.Username}, users...)
		}
	}
	w.users = users
	for i := range o.APIKeys {
		k := apiKey{
			id:          fmt.Sprintf("sim-key-%04d", i+1),
			userID:      users[i%len(users)],
			description: fmt.Sprintf("sim key %d (%s)", i+1, keyPurposes[i%len(keyPurposes)]),
			// The API's date-times have milliseconds.
			created: now.UTC().Add(-time.Duration(30+i*7) * 24 * time.Hour).Truncate(time.Second).Add(time.Duration(100+i*137%900) * time.Millisecond),
		}
		if o.Mode == ModeESS {
			k.org = w.orgs[0].id
		}
		if e := keyExpiries[i%len(keyExpiries)]; e != 0 {
			t := now.UTC().Add(e).Truncate(time.Second).Add(time.Duration(425+i*61%500) * time.Millisecond)
			k.expires = &t
		}
		w.keys = append(w.keys, k)
	}
}

// hoursIn returns the clock hours that start in [from, to) and during
// which d existed: so hours over adjacent windows add up, a window ending
// at the last instant of a day (…T23:59:59.999Z) counts that day's last
// hour, and one ending at the next midnight does not count the next day.
func (d *deployment) hoursIn(from, to time.Time) int64 {
	from, to = ceilHour(from), ceilHour(to)
	if d.created.After(from) {
		from = d.created
	}
	if !to.After(from) {
		return 0
	}
	return int64(to.Sub(from) / time.Hour)
}

// ceilHour rounds t up to a whole UTC hour.
func ceilHour(t time.Time) time.Time {
	h := t.UTC().Truncate(time.Hour)
	if h.Before(t) {
		h = h.Add(time.Hour)
	}
	return h
}

// usage is a resource's billed usage over a window: with a resize, the
// hours on the old SKU and on the current one (halves for the hour of the
// resize) and the cost of each, in micro-ECU.
type usage struct {
	oldHours, hours float64
	oldMicro, micro int64
}

func (d *deployment) usage(r *resource, from, to time.Time) usage {
	if r.resizedAt.IsZero() {
		h := d.hoursIn(from, to)
		return usage{hours: float64(h), micro: h * r.perHourMicro}
	}
	at, next := r.resizedAt, r.resizedAt.Add(time.Hour)
	before := d.hoursIn(from, minTime(to, at))
	split := d.hoursIn(maxTime(from, at), minTime(to, next))
	after := d.hoursIn(maxTime(from, next), to)
	k := r.split()
	return usage{
		oldHours: float64(before) + float64(split*k)/splitDenom, hours: float64(after) + float64(split*(splitDenom-k))/splitDenom,
		oldMicro: before*r.oldPerHourMicro + splitMicro(split*k, r.oldPerHourMicro),
		micro:    after*r.perHourMicro + splitMicro(split*(splitDenom-k), r.perHourMicro),
	}
}

// splitDenom is the denominator of a resize's share of its hour: a power
// of two, so that the fractional hours are exact in a float64 and the two
// shares add up to whole hours exactly.
const splitDenom = 1 << 20

// split returns how far into the hour of its resize the resource moved, in
// 1/splitDenom of an hour: an arbitrary-looking share between 1/8 and 7/8,
// derived from the resource id (so the world's random stream is not
// consumed).
func (r *resource) split() int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(r.id))
	return splitDenom/8 + int64(h.Sum64()%(splitDenom*3/4))
}

// splitAt is the instant of the resize, to the millisecond.
func (r *resource) splitAt() time.Time {
	return r.resizedAt.Add((time.Duration(r.split()) * time.Hour / splitDenom).Truncate(time.Millisecond))
}

// splitMicro is the cost of n/splitDenom hours at perHour micro-ECU,
// rounded to a whole micro-ECU: every cost stays an exact integer, and
// price differs from hours × price_per_hour by at most half a micro-ECU.
func splitMicro(n, perHour int64) int64 {
	return (n*perHour + splitDenom/2) / splitDenom
}

// capacityMicro is the cost of the deployment's resources over a window.
func (d *deployment) capacityMicro(from, to time.Time) int64 {
	var n int64
	for _, r := range d.resources {
		u := d.usage(r, from, to)
		n += u.oldMicro + u.micro
	}
	return n
}

// costMicro is the deployment's whole cost over a window.
func (d *deployment) costMicro(from, to time.Time) int64 {
	return d.capacityMicro(from, to) + d.hoursIn(from, to)*d.dtsMicro
}

// ecu converts micro-ECU to ECU.
func ecu(micro int64) float64 { return float64(micro) / 1e6 }
