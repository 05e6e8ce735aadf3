#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
#
# Builds the small MaxMind DB files that the GeoIP enricher's tests use
# (tests/unit/test-geoip.c, tests/system/test-geoip.sh), with Debian's
# libmaxmind-db-writer-perl, so that no .mmdb file is ever committed:
#
#     perl tests/data/mkmmdb.pl DIR
#
# writes DIR/country.mmdb (GeoLite2-Country layout), DIR/asn.mmdb
# (GeoLite2-ASN layout), DIR/country-v4.mmdb (an IPv4-only tree holding
# 198.51.100.0/24 -> FR) and DIR/not-a-db.mmdb (garbage, for the error
# path).  The networks are documentation ranges (RFC 5737, RFC 3849) plus
# 10.0.0.0/8, which the enricher must never look up (a private address is
# not an external peer):
#
#     network          country   ASN    organisation
#     198.51.100.0/24  FR        64500  Example Org
#     203.0.113.0/24   JP        64501  Example Japan KK
#     192.0.2.0/24     US        -      -          (country only)
#     192.0.2.128/25   -         64503  Example "Quoted" \ Org
#     192.0.2.64/26    -         64504  40 x U+00E9 (80 bytes of UTF-8)
#     2001:db8:1::/48  DE        64502  Example IPv6 GmbH
#     2001:db8:2::/48  (registered_country NL only, no country)
#     10.0.0.0/8       ZZ        64999  Private
#
# Both trees are IPv6 trees with IPv4 aliased at ::ffff:0:0/96, as
# MaxMind's own files are.
use strict;
use warnings;

use MaxMind::DB::Writer::Tree;

my $dir = shift @ARGV or die "usage: $0 DIR\n";
-d $dir or die "$0: $dir: not a directory\n";

my %types = (
    autonomous_system_number       => 'uint32',
    autonomous_system_organization => 'utf8_string',
    continent                      => 'map',
    code                           => 'utf8_string',
    country                        => 'map',
    registered_country             => 'map',
    iso_code                       => 'utf8_string',
    geoname_id                     => 'uint32',
    names                          => 'map',
    en                             => 'utf8_string',
);

sub new_tree {
    my ($type, $ip_version) = @_;
    $ip_version //= 6;
    return MaxMind::DB::Writer::Tree->new(
        ip_version               => $ip_version,
        record_size              => 24,
        database_type            => $type,
        languages                => ['en'],
        description              => { en => "vnmon test $type" },
        map_key_type_callback    => sub { $types{ $_[0] } },
        alias_ipv6_to_ipv4       => $ip_version == 6,
        # The documentation ranges are reserved: keep them.
        remove_reserved_networks => 0,
    );
}

sub country {
    my ($iso, $name) = @_;
    return {
        iso_code   => $iso,
        geoname_id => 1000 + ord($iso),
        names      => { en => $name },
    };
}

sub write_tree {
    my ($tree, $file) = @_;
    open my $fh, '>:raw', $file or die "$0: $file: $!\n";
    $tree->write_tree($fh);
    close $fh or die "$0: $file: $!\n";
}

my $c = new_tree('GeoLite2-Country');
for my $n (
    [ '198.51.100.0/24', 'FR', 'France',        'EU' ],
    [ '203.0.113.0/24',  'JP', 'Japan',         'AS' ],
    [ '192.0.2.0/24',    'US', 'United States', 'NA' ],
    [ '2001:db8:1::/48', 'DE', 'Germany',       'EU' ],
    [ '10.0.0.0/8',      'ZZ', 'Nowhere',       'AN' ],
    )
{
    my ($net, $iso, $name, $cont) = @$n;
    $c->insert_network(
        $net,
        {
            continent          => { code => $cont, names => { en => $cont } },
            country            => country($iso, $name),
            registered_country => country($iso, $name),
        }
    );
}
# As GeoLite2 has for some anycast networks: no country, only where the
# network is registered.
$c->insert_network('2001:db8:2::/48',
    { registered_country => country('NL', 'Netherlands') });
write_tree($c, "$dir/country.mmdb");

# An IPv4-only database: IPv6 lookups in it are misses, not errors.
my $c4 = new_tree('GeoLite2-Country', 4);
$c4->insert_network('198.51.100.0/24',
    { country => country('FR', 'France') });
write_tree($c4, "$dir/country-v4.mmdb");

my $a = new_tree('GeoLite2-ASN');
for my $n (
    [ '198.51.100.0/24', 64500, 'Example Org' ],
    [ '203.0.113.0/24',  64501, 'Example Japan KK' ],
    [ '192.0.2.128/25',  64503, 'Example "Quoted" \\ Org' ],
    [ '192.0.2.64/26',   64504, "\x{e9}" x 40 ],
    [ '2001:db8:1::/48', 64502, 'Example IPv6 GmbH' ],
    [ '10.0.0.0/8',      64999, 'Private' ],
    )
{
    my ($net, $asn, $org) = @$n;
    $a->insert_network(
        $net,
        {
            autonomous_system_number       => $asn,
            autonomous_system_organization => $org,
        }
    );
}
write_tree($a, "$dir/asn.mmdb");

open my $bad, '>', "$dir/not-a-db.mmdb" or die "$0: $dir/not-a-db.mmdb: $!\n";
print $bad "this is not a MaxMind DB file\n" x 100;
close $bad or die "$0: $dir/not-a-db.mmdb: $!\n";
