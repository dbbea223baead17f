#!/usr/bin/perl
# layering.t — the engine's dependencies point one way (HACKING.md, "Layering
# inside the engine"), checked on the sources' #include lines:
#   1. the control verbs (commands*.c, forwarder_commands.c, mail_commands.c,
#      domain_commands.c)
#      read the engine through engine_api.h, never engine_int.h;
#   2. the engine's core never includes a verb's header nor calls
#      dw_commands() (the adapter hands the verb table over), so there is no
#      engine.c -> commands.c -> enforce.c -> engine.c circle;
#   3. the units below the core include neither engine.h, engine_int.h nor
#      engine_api.h;
#   4. no engine file includes an Unbound header.
use strict;
use warnings;
use Test::More;
use File::Basename qw(basename dirname);

my $src = $ENV{DW_SRCDIR} || dirname(__FILE__) . '/..';
my @files = sort glob("$src/module/engine/*.[ch]");
ok(@files > 40, 'the engine sources are there (' . scalar(@files) . ' files)');

# The quoted includes of one file, and its text.
sub includes {
	my ($f) = @_;
	open(my $fh, '<', $f) or die "$f: $!";
	my $text = do { local $/; <$fh> };
	return ([$text =~ /^\s*#\s*include\s+"([^"]+)"/mg], $text);
}

my %verb = map { $_ => 1 } qw(commands.c commands_incidents.c forwarder_commands.c mail_commands.c
	domain_commands.c);
my %core = map { $_ => 1 } qw(engine.c engine.h engine_int.h engine_api.c engine_api.h enforce.c
	report.c incident_events.c names.c names.h domain_blocks.c domain_blocks.h);
my (@verb_bad, @core_bad, @unit_bad, @unbound_bad);
for my $f (@files) {
	my $name = basename($f);
	my ($inc, $text) = includes($f);
	my %has = map { $_ => 1 } @$inc;
	push @unbound_bad, $name if grep { m{^(util|services|daemon|iterator|dynlibmod|sldns)/} } @$inc;
	if ($verb{$name}) {
		push @verb_bad, $name if $has{'engine_int.h'};
		next;
	}
	if ($core{$name} || $name =~ /^engine_/) {
		push @core_bad, $name
			if grep({ $has{$_} } qw(commands.h commands_incidents.h forwarder_commands.h mail_commands.h
			domain_commands.h))
			|| $text =~ /\bdw_commands\s*\(/;
		next;
	}
	push @unit_bad, $name if grep { $has{$_} } qw(engine.h engine_int.h engine_api.h);
}
is(scalar(keys %verb), 5, 'five verb files');
ok(-f "$src/module/engine/$_", "$_ exists") for sort keys %verb;
is("@verb_bad", '', 'the verb files do not include engine_int.h');
is("@core_bad", '', "the engine's core includes no verb header and does not call dw_commands()");
is("@unit_bad", '', 'the units include neither engine.h, engine_int.h nor engine_api.h');
is("@unbound_bad", '', 'no engine file includes an Unbound header');
done_testing();
