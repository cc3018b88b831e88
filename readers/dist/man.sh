#!/bin/sh
# readers/dist/man.sh PROGRAM OUT VERSION: a man page, section 1, made from the
# program's own --help and --version (the text the program prints).
# readers/dist/man.sh --doc NAME FILE OUT: section 7, from a docs/ page.
set -e
esc() { # roff-safe: backslashes doubled, a leading . or ' neutralised
	sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/"
}
if [ "$1" = --doc ]; then
	name=$2; src=$3; out=$4
	{
		echo ".TH $(echo "$name" | tr a-z A-Z) 7 \"\" \"barbus\" \"barbus manual\""
		echo ".SH NAME"
		echo "$name \\- overview and operation of the barbus market-data bus"
		echo ".SH DESCRIPTION"
		echo ".nf"
		esc < "$src"
		echo ".fi"
		echo ".SH SEE ALSO"
		echo "barbus-coordinator(1), barbus-upkeep(1), barbus-tail(1), barbus-status(1)"
	} > "$out"
	exit 0
fi
prog=$1; out=$2
name=$(basename "$prog")
# Every program has --version; one that does not yet gets the library's.
version=$("$prog" --version 2>/dev/null | head -n 1) || version=
[ -n "$version" ] || version="barbus $3"
help=$("$prog" --help 2>&1) || true
{
	echo ".TH $(echo "$name" | tr a-z A-Z) 1 \"\" \"$version\" \"barbus manual\""
	echo ".SH NAME"
	# The line after the usage lines says what the program does.
	about=$(echo "$help" | grep -v -e '^usage:' -e '^ ' -e '^$' | head -n 1)
	echo "$name \\- $(echo "${about:-a barbus program}" | esc)"
	echo ".SH SYNOPSIS AND OPTIONS"
	echo ".nf"
	echo "$help" | esc
	echo ".fi"
	echo ".SH SEE ALSO"
	echo "barbus(7)"
} > "$out"
