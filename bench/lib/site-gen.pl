#!/usr/bin/perl
# site-gen.pl - the real-site benchmark's document root and request streams.
#
#   site-gen.pl site DIR FILES DIRS SEED
#       FILES files in DIRS directories under DIR (d0000/f00000.bin ...),
#       sizes from the SPECweb99 file set: four classes of files of
#       1..9 x 102 B, 1 KiB, 10 KiB and 100 KiB, chosen 35%, 50%, 14%
#       and 1% of the time, and within a class size i with SPECweb99's
#       frequencies (3.9 5.9 8.8 17.7 35.3 11.8 7.1 5.0 4.4 %): a mean
#       of about 14 KiB, a median of about 3 KiB. Prints "path bytes"
#       for every file, in directory order, to stdout.
#   site-gen.pl stream KIND N SEED < LIST
#       N request paths from the "path bytes" LIST, one per line, over a
#       fixed shuffled rank order (the same for every KIND, from SEED):
#       zipf-A (A = 0.8, 1.0, 1.2): rank r drawn with probability
#         proportional to 1 / r^A;
#       crawl: zipf-1.0 with every tenth request the next file of a
#         crawler walking the whole site in directory order;
#       onehit: every file once, in another shuffled order (N is ignored:
#         the stream has as many requests as files).
#
# Fixed seeds and a generator of our own (Park-Miller, multiplier 48271:
# exact in Perl's integers), so the same arguments give the same site and
# streams on every machine.
my $rng;
sub rnd_seed { $rng = 1 + ($_[0] * 7919) % 2147483646; }
# A uniform double in [0, 1).
sub rnd {
	$rng = ($rng * 48271) % 2147483647;
	return ($rng - 1) / 2147483646;
}

sub shuffle {
	my @a = @_;
	for (my $i = $#a; $i > 0; $i--) {
		my $j = int(rnd() * ($i + 1));
		@a[$i, $j] = @a[$j, $i];
	}
	return @a;
}

sub site {
	my ($dir, $files, $dirs, $seed) = @_;
	-d $dir or mkdir($dir, 0755) or die "site-gen: $dir: $!\n";
	rnd_seed($seed);
	my @unit = (102, 1024, 10240, 102400);
	my @class_pct = (35, 50, 14, 1);
	my @size_pct = (3.9, 5.9, 8.8, 17.7, 35.3, 11.8, 7.1, 5.0, 4.4);
	# Bytes to cut files from: printable, varied, the same every run.
	my $chunk = '';
	$chunk .= chr(33 + int(rnd() * 94)) while length($chunk) < 65536;
	my $pool = $chunk x 16;          # 1 MiB, the largest file is 900 KiB
	my $per_dir = int(($files + $dirs - 1) / $dirs);
	for my $f (0 .. $files - 1) {
		my $d = int($f / $per_dir);
		my $sub = sprintf('d%04d', $d);
		mkdir "$dir/$sub", 0755 if $f % $per_dir == 0;
		my ($x, $c, $s) = (rnd() * 100, 0, 0);
		$x -= $class_pct[$c++] while $c < 3 && $x >= $class_pct[$c];
		my $y = rnd() * 100;
		$y -= $size_pct[$s++] while $s < 8 && $y >= $size_pct[$s];
		my $bytes = ($s + 1) * $unit[$c];
		my $path = sprintf('/%s/f%06d.bin', $sub, $f);
		my $off = int(rnd() * 65536);
		open(my $fh, '>', "$dir$path") or die "site-gen: $dir$path: $!\n";
		print $fh substr($pool, $off, $bytes);
		close($fh) or die "site-gen: $dir$path: $!\n";
		print "$path $bytes\n";
	}
}

sub stream {
	my ($kind, $n, $seed) = @_;
	my @paths;
	while (<STDIN>) {
		my ($p) = split;
		push @paths, $p;
	}
	die "site-gen: no paths on stdin\n" unless @paths;
	rnd_seed($seed);
	my @rank = shuffle(@paths);
	if ($kind eq 'onehit') {
		rnd_seed($seed + 1);
		print "$_\n" for shuffle(@paths);
		return;
	}
	my ($alpha, $crawl);
	if ($kind =~ /^zipf-([0-9.]+)$/) {
		$alpha = $1;
	} elsif ($kind eq 'crawl') {
		($alpha, $crawl) = (1.0, 0);
	} else {
		die "site-gen: unknown stream '$kind'\n";
	}
	# Cumulative weights, then a binary search per request.
	my @cum;
	my $sum = 0;
	for my $r (1 .. @rank) {
		$sum += 1 / $r**$alpha;
		push @cum, $sum;
	}
	rnd_seed($seed + 2);
	for my $i (1 .. $n) {
		if (defined $crawl && $i % 10 == 0) {
			print $paths[$crawl], "\n";
			$crawl = ($crawl + 1) % @paths;
			next;
		}
		my $u = rnd() * $sum;
		my ($lo, $hi) = (0, $#cum);
		while ($lo < $hi) {
			my $mid = ($lo + $hi) >> 1;
			if ($cum[$mid] < $u) { $lo = $mid + 1 } else { $hi = $mid }
		}
		print $rank[$lo], "\n";
	}
}

my $cmd = shift // '';
if ($cmd eq 'site' && @ARGV == 4) {
	site(@ARGV);
} elsif ($cmd eq 'stream' && @ARGV == 3) {
	stream(@ARGV);
} else {
	die "usage: site-gen.pl site DIR FILES DIRS SEED | stream KIND N SEED < LIST\n";
}
