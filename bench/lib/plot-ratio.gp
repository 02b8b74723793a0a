# plot-ratio.gp - req/s with / without sendcache by file size, one line
# per server. From bench/ab.sh:
#   gnuplot -e "datafile='F'; outfile='F.png'; servers='nginx lighttpd'" plot-ratio.gp
# datafile columns: index, size, then one ratio per server in that order.
set terminal pngcairo size 820,500 font ",10"
set output outfile
set title "requests/s with / without sendcache (medians)"
set ylabel "ratio (1 = no change)"
set xlabel "file size (mix: SPECweb99-like set)"
set grid ytics
set yrange [0:*]
set key outside bottom center horizontal
set termoption noenhanced
set xrange [-0.3:*]
set offsets 0, 0.3, 0, 0
plot for [i = 1:words(servers)] datafile using 1:(column(i + 2)):xtic(2) \
         title word(servers, i) with linespoints lw 2, \
     1 with lines dt 2 lc rgb "black" notitle
