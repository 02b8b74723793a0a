# plot-site.gp - req/s with / without sendcache per server and stream,
# the bar the median ratio, the whisker the spread of the rounds. From
# bench/site.sh:
#   gnuplot -e "datafile='F'; outfile='F.png'" plot-site.gp
# datafile columns: server, stream, ratio, ratio_min, ratio_max.
set terminal pngcairo size 900,480 font ",10"
set output outfile
set title "real site: requests/s with / without sendcache (medians of the rounds, range of per-round ratios)"
set ylabel "ratio (1 = no change)"
set grid ytics
set yrange [0:*]
set style fill solid 0.5
set boxwidth 0.7
set xtics rotate by -40 noenhanced
set termoption noenhanced
set key off
plot datafile using 0:3:xtic(sprintf("%s %s", strcol(1), strcol(2))) with boxes lc rgb "#4477aa", \
     datafile using 0:3:4:5 with yerrorbars lc rgb "black" pt 0, \
     1 with lines dt 2 lc rgb "black"
