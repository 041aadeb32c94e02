package exposition

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// compareLabels orders two series of one family the way client_golang's
// registry does: by label values, in label-name order.
func compareLabels(a, b *dto.Metric) int {
	for i := 0; i < len(a.Label) && i < len(b.Label); i++ {
		if c := cmp.Compare(a.Label[i].GetName(), b.Label[i].GetName()); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Label[i].GetValue(), b.Label[i].GetValue()); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a.Label), len(b.Label))
}

// MergeFamilies merges name-sorted family lists into one name-sorted list.
// A family found in several lists (the same metric from several accounts)
// gets its series merged in label order; a series found twice is kept
// once. Families present in one list only are passed through unchanged:
// a scrape copies pointers, it does not rebuild series.
func MergeFamilies(lists ...[]*dto.MetricFamily) ([]*dto.MetricFamily, error) {
	var all []*dto.MetricFamily
	for _, l := range lists {
		all = append(all, l...)
	}
	slices.SortStableFunc(all, func(a, b *dto.MetricFamily) int { return cmp.Compare(a.GetName(), b.GetName()) })
	out := make([]*dto.MetricFamily, 0, len(all))
	var errs prometheus.MultiError
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j].GetName() == all[i].GetName() {
			j++
		}
		if j == i+1 {
			out = append(out, all[i])
		} else {
			mf, err := MergeSameFamily(all[i:j])
			errs.Append(err)
			out = append(out, mf)
		}
		i = j
	}
	return out, errs.MaybeUnwrap()
}

// MergeSameFamily merges the series of families with one name, each
// sorted by labels. The usual case, one list per account, is a
// concatenation: account is part of every series' labels, so the lists
// follow one another once ordered by their first series. Lists that
// interleave are merged pairwise, in rounds (n·log k).
func MergeSameFamily(fams []*dto.MetricFamily) (*dto.MetricFamily, error) {
	first := fams[0]
	var err error
	lists := make([][]*dto.Metric, 0, len(fams))
	total := 0
	for _, f := range fams {
		if f.GetType() != first.GetType() {
			err = fmt.Errorf("metric family %s exposed with types %s and %s; keeping %s", first.GetName(), first.GetType(), f.GetType(), first.GetType())
			continue
		}
		if len(f.Metric) > 0 {
			lists = append(lists, f.Metric)
			total += len(f.Metric)
		}
	}
	slices.SortStableFunc(lists, func(a, b []*dto.Metric) int { return compareLabels(a[0], b[0]) })
	disjoint := true
	for i := 1; i < len(lists) && disjoint; i++ {
		prev := lists[i-1]
		disjoint = compareLabels(prev[len(prev)-1], lists[i][0]) < 0
	}
	var merged []*dto.Metric
	switch {
	case len(lists) == 0:
	case disjoint:
		merged = make([]*dto.Metric, 0, total)
		for _, l := range lists {
			merged = append(merged, l...)
		}
	default:
		for len(lists) > 1 {
			next := lists[:0:0]
			for i := 0; i < len(lists); i += 2 {
				if i+1 < len(lists) {
					next = append(next, mergeSorted(lists[i], lists[i+1]))
				} else {
					next = append(next, lists[i])
				}
			}
			lists = next
		}
		merged = lists[0]
	}
	return &dto.MetricFamily{Name: first.Name, Help: first.Help, Type: first.Type, Unit: first.Unit, Metric: merged}, err
}

func mergeSorted(a, b []*dto.Metric) []*dto.Metric {
	out := make([]*dto.Metric, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch c := compareLabels(a[i], b[j]); {
		case c < 0:
			out = append(out, a[i])
			i++
		case c > 0:
			out = append(out, b[j])
			j++
		default: // the same series twice: keep the first
			out = append(out, a[i])
			i, j = i+1, j+1
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}
