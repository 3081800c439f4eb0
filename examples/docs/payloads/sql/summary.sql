\pset format unaligned
select count(*) as sales, sum(amount) as total from docs_sales;
