#!/usr/bin/awk -f
# SPDX-License-Identifier: GPL-2.0
# Markdown pipe tables to reStructuredText simple tables, the format of
# Documentation/networking/page_pool_providers_figures.rst, so that a
# make bench* table is pasted into the report as printed. Other lines pass
# through; a "# title" line becomes an underlined title.
#
# usage: awk -f scripts/rst-tables.awk FILE...

function flush(   i, j, w, line, rule, cell, nc) {
	if (!rows)
		return
	nc = 0
	for (i = 1; i <= rows; i++)
		if (ncell[i] > nc)
			nc = ncell[i]
	for (j = 1; j <= nc; j++) {
		w[j] = 0
		for (i = 1; i <= rows; i++)
			if (length(cells[i, j]) > w[j])
				w[j] = length(cells[i, j])
	}
	rule = ""
	for (j = 1; j <= nc; j++) {
		cell = sprintf("%" w[j] "s", "")
		gsub(/ /, "=", cell)
		rule = rule (j > 1 ? "  " : "") cell
	}
	# a table is a paragraph of its own
	if (last != "")
		print ""
	print rule
	for (i = 1; i <= rows; i++) {
		line = ""
		for (j = 1; j <= nc; j++) {
			cell = cells[i, j]
			# the first column and the header left, figures right
			if (j == 1 || i == 1 || !right[j])
				line = line (j > 1 ? "  " : "") sprintf("%-" w[j] "s", cell)
			else
				line = line (j > 1 ? "  " : "") sprintf("%" w[j] "s", cell)
		}
		sub(/ +$/, "", line)
		print line
		if (i == 1)
			print rule
	}
	print rule
	last = rule
	rows = 0
	delete cells
	delete ncell
	delete right
}

# a row: its cells, trimmed
function split_row(s, out,   n, i, parts) {
	sub(/^ *\|/, "", s)
	sub(/\| *$/, "", s)
	n = split(s, parts, "|")
	for (i = 1; i <= n; i++) {
		gsub(/^ +| +$/, "", parts[i])
		out[i] = parts[i]
	}
	return n
}

/^ *\|/ {
	n = split_row($0, c)
	if (rows == 1 && $0 ~ /^ *\|[-:| ]+\| *$/) {
		for (j = 1; j <= n; j++)
			right[j] = c[j] ~ /:$/
		next
	}
	rows++
	ncell[rows] = n
	for (j = 1; j <= n; j++)
		cells[rows, j] = c[j]
	next
}

{
	flush()
	if (/^# /) {
		t = substr($0, 3)
		print t
		u = t
		gsub(/./, "=", u)
		print u
		last = u
		next
	}
	if (last == rule && rule != "" && $0 != "")
		print ""
	print
	last = $0
}

END { flush() }
