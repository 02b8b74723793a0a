# plot.gp - requests/s by file size for one server, without and with
# sendcache, the nginx anchors as reference lines. From bench/ab.sh:
#   gnuplot -e "datafile='F'; outfile='F.png'; server='nginx'" plot.gp
# datafile columns: index, size, without, with, nginx from memory, tuned.
set terminal pngcairo size 820,500 font ",10"
set output outfile
set title sprintf("%s: requests/s by file size (medians)", server)
set logscale y
set ylabel "requests/s (log scale)"
set xlabel "file size (mix: SPECweb99-like set)"
set grid ytics mytics
set key outside bottom center horizontal
set termoption noenhanced
set xrange [-0.3:*]
set offsets 0, 0.3, 0, 0
plot datafile using 1:3:xtic(2) title "without" with linespoints lw 2 pt 7 lc rgb "#d95f02", \
     '' using 1:4 title "with sendcache" with linespoints lw 2 pt 5 lc rgb "#1b9e77", \
     '' using 1:5 title "anchor: nginx from memory" with linespoints dt 2 pt 1 lc rgb "#555555", \
     '' using 1:6 title "anchor: nginx tuned (open_file_cache)" with linespoints dt 3 pt 2 lc rgb "#7570b3"
