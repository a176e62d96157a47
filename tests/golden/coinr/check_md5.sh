#!/bin/bash
# verify files in COINr/ against CRAN 1.1.14 MD5 manifest (files in tarball have CRLF endings)
cd /work/coinr_golden/COINr
for f in "$@"; do
  want=$(grep " \*$f\$" ../MD5_cran_1.1.14.txt | cut -d' ' -f1)
  got=$(sed 's/$/\r/' "$f" | md5sum | cut -d' ' -f1)
  gotlf=$(md5sum < "$f" | cut -d' ' -f1)
  if [ "$want" = "$got" ] || [ "$want" = "$gotlf" ]; then echo "OK   $f"; else echo "FAIL $f (want $want got $got) chars_crlf=$(sed 's/$/\r/' "$f" | wc -c)"; fi
done
