#!/usr/bin/env bash
# Labelled pairs from an STS Benchmark file, for `pairwise eval pairs`.
#
#   scripts/stsb_pairs.sh [STS_FILE] > pairs.tsv      (default: STS-B test from
#                                                      $PAIRWISE_DATA or ../shared/data)
#
# Rule: gold similarity >= 4 (of 5) is a match (label 1), <= 1 is a non-match (label 0); pairs
# in between are left out, so each label is unambiguous to a human reader. Output: a header
# line, then `label<TAB>sentence1<TAB>sentence2`. Made at run time; the data is not committed.
set -euo pipefail
in="${1:-${PAIRWISE_DATA:-$(dirname "$0")/../../shared/data}/stsb/sts-test.csv}"
[ -f "$in" ] || { echo "no STS file: give its path" >&2; exit 1; }
printf 'label\tsentence1\tsentence2\n'
# Columns: genre, file, year, id, score, sentence1, sentence2 (some lines carry two more).
awk -F '\t' 'NF >= 7 && $6 != "" && $7 != "" {
  if ($5 + 0 >= 4) print "1\t" $6 "\t" $7; else if ($5 + 0 <= 1) print "0\t" $6 "\t" $7
}' "$in"
