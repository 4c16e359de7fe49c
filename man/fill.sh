#!/bin/sh
# fill.sh - makes a man page's scdoc source from its template and the binary's own help, so
# that the SYNOPSIS and OPTIONS of a page are what the parser's option tables say, never a
# copy that drifts: `closetrace CMD --help` is read and its usage lines and option groups
# become scdoc text.
#
#   man/fill.sh CLOSETRACE TEMPLATE.scd.in > PAGE.scd
#
# In the template, a line holding only one of these markers is replaced:
#   @SYNOPSIS@ CMD   the usage lines of `closetrace CMD --help` ("-" for closetrace itself)
#   @OPTIONS@ CMD    its option groups, each a "## Group options" subsection
#   @FIELDS@         the field list of `closetrace help filter`
# and @VERSION@ anywhere by `closetrace version`'s number.
set -eu
ct=$1
in=$2
version=$("$ct" version | sed 's/^closetrace //')

help_of() {
	if [ "$1" = - ]; then "$ct" --help; else "$ct" "$1" --help; fi
}

# scdoc gives * _ and \ a meaning: escape them in text from the binary
esc() {
	sed -e 's/\\/\\\\/g' -e 's/\*/\\*/g' -e 's/_/\\_/g'
}

synopsis() {
	help_of "$1" | awk '
		/^Usage: / { sub(/^Usage: /, ""); u = 1 }
		u && /^$/ { exit }
		u { sub(/^ +/, ""); print }' | esc | awk '
		{
			# the command in bold, the rest as written
			n = split($0, w, " ")
			cmd = "*" w[1]
			i = 2
			if (n >= 2 && w[2] ~ /^[a-z]+$/) { cmd = cmd " " w[2]; i = 3 }
			line = cmd "*"
			for (; i <= n; i++) line = line " " w[i]
			if (NR > 1) print ""
			print line
		}'
}

# An option line is "  -x, --name META   text" or "      --name META text" (a long META
# leaves one space); a continuation line is text from column 28.
options() {
	help_of "$1" | esc | awk '
		/^[A-Z][A-Za-z-]* options:$/ {
			sub(/:$/, "")
			print "## " $0
			print ""
			grp = 1
			next
		}
		grp && /^$/ { if (opt) printf "\n\n"; grp = 0; opt = 0; next }
		!grp { next }
		/^  (-[A-Za-z], |    )--/ {
			if (opt) printf "\n\n"
			s = substr($0, 3)
			short = ""
			if (s ~ /^-[A-Za-z], /) { short = substr(s, 1, 2); s = substr(s, 5) }
			else s = substr(s, 5)
			# --name, then an optional META (capitals, brackets, :,), then the text
			match(s, /^--[a-z0-9-]+/)
			long = substr(s, 1, RLENGTH)
			s = substr(s, RLENGTH + 1)
			meta = ""
			if (match(s, /^ [][A-Z:,.|]+/)) {
				meta = substr(s, 2, RLENGTH - 1)
				s = substr(s, RLENGTH + 1)
			}
			sub(/^ +/, "", s)
			head = (short != "" ? "*" short "*, " : "") "*" long "*"
			if (meta != "") head = head " _" meta "_"
			print head
			printf "\t%s", s
			opt = 1
			next
		}
		/^                           / { sub(/^ +/, ""); printf " %s", $0; next }
		END { if (opt) printf "\n" }'
}

fields() {
	"$ct" help filter | esc | awk '
		/^Fields:$/ { f = 1; next }
		f && /^$/ { exit }
		!f { next }
		/^  [a-z]/ {
			if (n++) print "\n"
			name = $1; type = substr($0, 17, 16); text = substr($0, 34)
			sub(/ +$/, "", type)
			printf "*%s* (%s)\n\t%s", name, type, text
			next
		}
		{ sub(/^ +/, ""); printf " %s", $0 }
		END { print "" }'
}

while IFS= read -r line; do
	case $line in
	"@SYNOPSIS@ "*) synopsis "${line#@SYNOPSIS@ }" ;;
	"@OPTIONS@ "*) options "${line#@OPTIONS@ }" ;;
	"@FIELDS@") fields ;;
	*) printf '%s\n' "$line" | sed "s/@VERSION@/$version/g" ;;
	esac
done <"$in"
