#!/usr/bin/perl
# check-format.t — tools/dev/check-format, the CI check that C lines changed
# since a recorded base commit follow .clang-format, in a git repository of
# its own (a temporary clone-like tree with the project's .clang-format):
#   1. nothing changed since the base: passes;
#   2. a misformatted line that was already there at the base: not flagged
#      (existing files are never reformatted by this check);
#   3. a misformatted line added since the base: flagged, exit 1, with the
#      change clang-format wants;
#   4. a file moved since the base: only its changed lines count;
#   5. a new untracked file: checked whole;
#   6. a base that is not a commit: exit 2 with the reason.
use strict;
use warnings;
use Test::More;
use File::Basename qw(dirname);
use File::Copy qw(copy);
use File::Path qw(make_path);
use File::Temp qw(tempdir);

my $src = $ENV{DW_SRCDIR} || dirname(__FILE__) . '/..';
my $dir = tempdir('check-format-XXXXXX', TMPDIR => 1, CLEANUP => 1);

# Run a command in $dir; returns (exit status, stdout and stderr).
sub run {
	my ($cmd) = @_;
	my $out = `cd "$dir" && $cmd 2>&1`;
	return ($? >> 8, $out);
}

sub spew {
	my ($path, $text) = @_;
	make_path(dirname("$dir/$path"));
	open(my $fh, '>', "$dir/$path") or die "$path: $!";
	print $fh $text;
	close $fh or die "$path: $!";
}

make_path("$dir/tools/dev");
copy("$src/.clang-format", "$dir/.clang-format") or die ".clang-format: $!";
copy("$src/tools/dev/check-format", "$dir/tools/dev/check-format") or die "check-format: $!";
chmod 0755, "$dir/tools/dev/check-format";
my ($st, $out) = run('git init -q . && git config user.email t@example.invalid && git config user.name t');
is($st, 0, 'a scratch git repository') or diag $out;

# the base: one formatted function and one drifted line, as an old file has
spew('module/old.c', "/** Old. */\nint old(int a)\n{\n\treturn a + 1;\n}\n\nint  drift ( void ) ;\n");
spew('tools/move.c', "/** Moved. */\nint moved(void)\n{\n\treturn 2;\n}\nint  old_drift ( void ) ;\n");
run('git add -A && git commit -q -m base');
(my $base = `cd "$dir" && git rev-parse HEAD`) =~ s/\s+//g;
spew('tools/dev/format-base', "$base the test's base\n");
run('git add -A && git commit -q -m "record the base"');

($st, $out) = run('tools/dev/check-format');
is($st, 0, 'nothing changed since the base: passes') or diag $out;
like($out, qr/follow \.clang-format/, 'and says so');
unlike($out, qr/drift/, 'the drifted line of the base is not flagged');

spew('module/old.c', "/** Old. */\nint old(int a)\n{\n\treturn a+1;\n}\n\nint  drift ( void ) ;\n");
($st, $out) = run('tools/dev/check-format');
is($st, 1, 'a misformatted changed line fails the check') or diag $out;
like($out, qr/^-\treturn a\+1;\n\+\treturn a \+ 1;$/m, 'the output shows the change clang-format wants');
unlike($out, qr/^[-+]int\s+drift/m, 'the untouched drifted line is still not flagged');
run('git checkout -q module/old.c');

run('git mv tools/move.c tools/dev/move.c && git commit -q -m move');
($st, $out) = run('tools/dev/check-format');
is($st, 0, 'a file moved unchanged since the base passes (not checked whole)') or diag $out;
spew('tools/dev/move.c', "/** Moved. */\nint moved(void)\n{\n\treturn 2;\n}\nint  old_drift ( void ) ;\nint  more(void);\n");
($st, $out) = run('tools/dev/check-format');
is($st, 1, 'a misformatted line in a moved file fails') or diag $out;
like($out, qr/^\+int more\(void\);$/m, 'that line is shown');
unlike($out, qr/^[-+]int\s+old_drift/m, 'not the drifted line it brought along');
run('git checkout -q tools/dev/move.c');

spew('module/new.c', "int  fresh(void){return 0;}\n");
($st, $out) = run('tools/dev/check-format');
is($st, 1, 'a new untracked misformatted file fails') or diag $out;
like($out, qr{module/new\.c \(new file\) is not formatted}, 'named as a new file');
spew('module/new.c', "int fresh(void)\n{\n\treturn 0;\n}\n");
($st, $out) = run('tools/dev/check-format');
is($st, 0, 'formatted, it passes') or diag $out;

($st, $out) = run('tools/dev/check-format 0123456789012345678901234567890123456789');
is($st, 2, 'a base that is not a commit: exit 2');
like($out, qr/base commit '0123456789012345678901234567890123456789' is not in this clone/, 'with the reason');
done_testing;
