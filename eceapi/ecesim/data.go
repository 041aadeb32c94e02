package ecesim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// The simulated world: organizations, deployments with resources and their
// prices, remote clusters and API keys, all derived from Options.Seed.

type organization struct {
	id, name string
}

type resource struct {
	kind, refID, id, region string
	esRefID                 string  // for non-ES kinds: the ES resource they depend on
	sku                     string  // instance configuration SKU
	pricePerHour            float64 // ECU per hour, all instances
	instances               int
	version, target         string // stateless kinds: current and upgrade target
}

type dtsSKU struct {
	sku, name, typ, dimension, unit string
	rate                            float64 // ECU per unit
	perHour                         int64   // units per hour
}

type remote struct {
	deploymentID, refID, alias string
	skipUnavailable            bool
	// state: "ok", "unhealthy", "disconnected", "untrusted", "not_trusted_back", "incompatible", "no_info"
	state string
}

type deployment struct {
	index     int
	id, name  string
	org       string
	created   time.Time
	resources []*resource
	dts       []dtsSKU
	remotes   []remote
}

type apiKey struct {
	id, userID, org, description string
	created                      time.Time
	expires                      *time.Time
}

type world struct {
	orgs        []organization
	deployments []*deployment
	byID        map[string]*deployment
	keys        []apiKey
	accountID   string
}

// Words for obviously fake names.
var (
	nameWords = []string{"search", "logs", "metrics", "apm", "security", "catalog", "orders", "events", "analytics", "traces"}
	envWords  = []string{"prod", "staging", "dev", "qa"}
	regions   = []string{"gcp-europe-west1", "aws-us-east-1", "azure-westeurope", "aws-eu-central-1"}
	remoteMix = []string{"unhealthy", "disconnected", "untrusted", "not_trusted_back", "no_info", "incompatible"}
)

func hexID(r *rand.Rand) string {
	return fmt.Sprintf("%016x%016x", r.Uint64(), r.Uint64())
}

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }

func newWorld(o Options, now time.Time) *world {
	r := rand.New(rand.NewPCG(uint64(o.Seed), 0x5eed))
	w := &world{byID: map[string]*deployment{}, accountID: fmt.Sprintf("%d", 1000000000+r.IntN(899999999))}
	norgs := o.Organizations
	if o.Mode == ModeECE {
		norgs = 1 // ECE has no organizations API; deployments still need an owner
	}
	for i := 0; i < norgs; i++ {
		id := w.accountID
		if i > 0 {
			id = fmt.Sprintf("%d", 1000000000+r.IntN(899999999))
		}
		w.orgs = append(w.orgs, organization{id: id, name: fmt.Sprintf("sim-org-%02d", i+1)})
	}
	region := func(i int) string {
		if o.Mode == ModeECE {
			return "ece-region"
		}
		return regions[i%len(regions)]
	}
	hourNow := now.UTC().Truncate(time.Hour)
	idx := 0
	for _, org := range w.orgs {
		for j := 0; j < o.DeploymentsPerOrg; j++ {
			d := &deployment{
				index: idx, id: hexID(r), org: org.id,
				name:    fmt.Sprintf("sim-%s-%s-%03d", nameWords[idx%len(nameWords)], envWords[(idx/len(nameWords))%len(envWords)], idx+1),
				created: hourNow.Add(-time.Duration(24*(3+r.IntN(400))+r.IntN(24)) * time.Hour),
			}
			reg := region(idx)
			es := &resource{kind: "elasticsearch", refID: "main-elasticsearch", id: hexID(r), region: reg,
				sku: fmt.Sprintf("%s.es.datahot.n2.68x10x45", reg[:3]), instances: 1 + r.IntN(3)}
			es.pricePerHour = round4(float64(es.instances) * (0.2 + r.Float64()))
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
			for _, k := range kinds {
				res := &resource{kind: k, refID: "main-" + k, id: hexID(r), region: reg, esRefID: es.refID,
					sku: fmt.Sprintf("%s.%s.n2.68x32x45", reg[:3], k), instances: 1}
				res.pricePerHour = round4(0.05 + r.Float64()*0.2)
				res.version = "8.14.3"
				res.target = "8.15.1"
				if r.IntN(3) == 0 {
					res.target = res.version // already current
				}
				d.resources = append(d.resources, res)
			}
			d.dts = []dtsSKU{
				{sku: reg[:3] + ".data.out.internet", name: "Data out (internet)", typ: "data_out", dimension: "data_out", unit: "GB", rate: 0.032, perHour: int64(1 + r.IntN(5))},
				{sku: reg[:3] + ".data.internode", name: "Data inter-node", typ: "data_internode", dimension: "data_internode", unit: "GB", rate: 0.014, perHour: int64(2 + r.IntN(10))},
				{sku: reg[:3] + ".snapshot.storage", name: "Snapshot storage", typ: "storage_bytes", dimension: "storage_bytes", unit: "GB-hour", rate: 0.000041, perHour: int64(50 + r.IntN(500))},
			}
			w.deployments = append(w.deployments, d)
			w.byID[d.id] = d
			idx++
		}
	}
	n := len(w.deployments)
	k := 0
	for _, d := range w.deployments {
		for j := 0; j < o.RemoteClustersPerES && n > 1; j++ {
			target := w.deployments[(d.index+1+j)%n]
			if target == d {
				continue
			}
			state := "ok"
			if k%4 == 0 {
				state = remoteMix[(k/4)%len(remoteMix)]
			}
			d.remotes = append(d.remotes, remote{
				deploymentID: target.id, refID: "main-elasticsearch",
				alias:           fmt.Sprintf("sim-remote-%03d", target.index+1),
				skipUnavailable: k%3 == 0, state: state,
			})
			k++
		}
	}
	users := []string{"sim-user-1"}
	if o.Mode == ModeECE {
		users = []string{o.Username, "sim-user-1", "sim-user-2"}
	}
	expiries := []time.Duration{3 * 24 * time.Hour, 20 * 24 * time.Hour, 200 * 24 * time.Hour, 0, -2 * 24 * time.Hour, 60 * 24 * time.Hour}
	for i := 0; i < o.APIKeys; i++ {
		k := apiKey{
			id:          fmt.Sprintf("sim-key-%04d", i+1),
			userID:      users[i%len(users)],
			description: fmt.Sprintf("sim key %d (%s)", i+1, []string{"ci", "terraform", "monitoring", "backup", "ingest", "grafana"}[i%6]),
			created:     now.UTC().Add(-time.Duration(30+i*7) * 24 * time.Hour).Truncate(time.Second),
		}
		if o.Mode == ModeESS {
			k.org = w.orgs[0].id
		}
		if e := expiries[i%len(expiries)]; e != 0 {
			t := now.UTC().Add(e).Truncate(time.Second)
			k.expires = &t
		}
		w.keys = append(w.keys, k)
	}
	return w
}

// hoursIn returns the whole hours of [from, to) during which d existed;
// boundaries are truncated to the hour so that costs are additive.
func (d *deployment) hoursIn(from, to time.Time) int64 {
	from, to = from.UTC().Truncate(time.Hour), to.UTC().Truncate(time.Hour)
	if d.created.After(from) {
		from = d.created
	}
	if !to.After(from) {
		return 0
	}
	return int64(to.Sub(from) / time.Hour)
}
